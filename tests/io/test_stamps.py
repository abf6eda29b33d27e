from __future__ import annotations

import hashlib
import os
from pathlib import Path

from celldino_utils.io.stamps import (
    MISSING,
    file_sha256,
    file_stamp,
    files_sha256,
    path_stamp,
    snapshot,
    tree_sha256,
    value_sha256,
)


def test_a_rewritten_file_changes_its_stamp_and_its_folder_s(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    folder, file = path_stamp(tmp_path), file_stamp(tmp_path / "b.txt")
    assert folder.startswith("files=2 ") and file.startswith("size=1 ")
    stat = (tmp_path / "b.txt").stat()
    os.utime(tmp_path / "b.txt", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # the same bytes, written again
    assert file_stamp(tmp_path / "b.txt") != file and path_stamp(tmp_path) != folder
    assert path_stamp(tmp_path, ignore=[tmp_path / "b.txt"]).startswith("files=1 ")
    assert path_stamp(tmp_path / "none") == MISSING
    assert list(snapshot([tmp_path, tmp_path / "none"], ignore=[tmp_path / "sub"])) == [tmp_path / "b.txt"]


def test_content_digests(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    assert file_sha256(tmp_path / "a.txt") == hashlib.sha256(b"a").hexdigest()
    files = [tmp_path / "a.txt", tmp_path / "b.txt"]
    assert files_sha256(files, base=tmp_path) == hashlib.sha256(b"a.txt\0ab.txt\0b").hexdigest()
    assert files_sha256(files[::-1], base=tmp_path) != files_sha256(files, base=tmp_path)
    tree = tree_sha256(tmp_path)
    assert tree["files"] == 2
    (tmp_path / "b.txt").write_text("c")
    assert tree_sha256(tmp_path)["sha256"] != tree["sha256"]
    assert value_sha256({"a": 1, "b": [2]}) == value_sha256({"b": [2], "a": 1}) != value_sha256({"a": 1})
