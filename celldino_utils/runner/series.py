"""Execute the notebook series in order with papermill, as one reproducible run that redoes only what changed.

The order, and what each notebook reads and writes, come from ``configs/notebooks.yaml``
(:mod:`celldino_utils.runner.declarations`). A notebook runs when it never ran, when it is forced, or when its
source, parameters, package code, inputs, profile sections or outputs changed since its last successful run
(:mod:`celldino_utils.runner.freshness`); otherwise it is ``up to date`` and keeps its executed copy, outputs and
manifest entry. A notebook that writes a file outside the locations it declares fails the run.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import papermill
from papermill.exceptions import PapermillExecutionError
from traitlets.config import Config

from celldino_utils.config.cores import core_share
from celldino_utils.io.stamps import path_stamp, snapshot, tree_sha256
from celldino_utils.runner import audit
from celldino_utils.runner.declarations import Access, path_key, resolve_key
from celldino_utils.runner.freshness import expected_runs, fingerprint, input_stamps, stale_reason, written_outputs
from celldino_utils.runner.manifest import git_commit, package_versions, write_manifest
from celldino_utils.runner.parameters_cell import fold_parameters
from celldino_utils.runner.profile_check import Series, check_inputs, check_series

MANIFEST_NAME = "run_manifest.json"


class NotebookFailed(RuntimeError):
    """A notebook of the series raised; the message names the notebook and the failing cell."""


class UndeclaredWrite(NotebookFailed):
    """A notebook wrote files outside the locations ``configs/notebooks.yaml`` declares for it."""


class UndeclaredRead(NotebookFailed):
    """In a strict run, a notebook's code opened files for reading that ``configs/notebooks.yaml`` does not declare."""


def check_profile(profile_name: str, *, root: str | Path = ".") -> int:
    """Check a profile as :func:`run_series` does before its first notebook, executing nothing.

    Returns
    -------
    int
        How many inputs the profile declares in ``sources`` (all present).

    Raises
    ------
    ValueError
        As :func:`run_series` raises it before its first notebook (``MissingInputs`` is one).
    """
    return check_series(profile_name, root=root).declared_inputs


def _data_checksums(profile: dict[str, Any], root: Path, earlier: Mapping[str, Any]) -> dict[str, Any]:
    """Checksums of the ``paths.*_data`` folders; an earlier one stands while the folder's file stamps are unchanged."""
    sums = {}
    for key, value in (profile.get("paths") or {}).items():
        path = resolve_key(str(value), root)
        if not key.endswith("_data") or not path.exists():
            continue
        stamp, last = path_stamp(path), earlier.get(key) or {}
        if last.get("path") == str(value) and last.get("stamp") == stamp:
            sums[key] = last
        else:
            sums[key] = {"path": str(value), **tree_sha256(path), "stamp": stamp}
    return sums


def _kernel_config(start_lines: list[str], name: str) -> Config:
    """Kernels talk to the runner over local IPC sockets in the temporary folder, not over TCP ports (which
    ipykernel warns about on every start, and which any local user could reach), one set per notebook ``name`` (two
    may run at once); they run ``start_lines`` first."""
    config = Config()
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = str(Path(tempfile.gettempdir()) / f"celldino-kernel-{os.getpid()}-{name}")
    config.NotebookClient.extra_arguments = [f"--IPKernelApp.exec_lines={line}" for line in start_lines]
    return config


def _execute(notebook: Path, params: dict[str, Any], *, root: Path, out: Path, start_lines: list[str]) -> None:
    try:
        papermill.execute_notebook(
            str(notebook),
            str(out),
            parameters=params,
            kernel_name="python3",
            cwd=str(root),
            progress_bar=False,
            config=_kernel_config(start_lines, notebook.stem),
        )
    except PapermillExecutionError as err:
        raise NotebookFailed(
            f"{notebook.name} failed in cell {err.cell_index} (execution count {err.exec_count}): "
            f"{err.ename}: {err.evalue}. The executed copy with the traceback is {out}"
        ) from None
    fold_parameters(out)  # the book shows each parameter once, with the value it ran with


def _earlier_manifest(path: Path, profile_name: str) -> dict[str, Any]:
    """The manifest of the last run of the same profile, or an empty one."""
    earlier = json.loads(path.read_text()) if path.exists() else {}
    return earlier if earlier.get("profile") == profile_name else {}


def _with_earlier_entries(
    entries: dict[str, Any], earlier: Mapping[str, Any], notebooks: list[Path]
) -> dict[str, dict[str, Any]]:
    """This run's notebook entries, plus those the earlier manifest holds for the notebooks this run did not reach.

    A partial run (``only``, or one stopped by a failure) must not erase the record of the other notebooks:
    each kept entry says which run (``started``, ``commit``) it comes from.
    """
    source = {"started": earlier.get("started"), "commit": (earlier.get("git") or {}).get("commit")}
    merged = {}
    for stem in (nb.stem for nb in notebooks):
        if stem in entries:
            merged[stem] = entries[stem]
        elif stem in earlier.get("notebooks", {}):
            merged[stem] = {"earlier_run": source, **earlier["notebooks"][stem]}
    return merged


def _chosen(names: Collection[str], notebooks: list[Path], option: str) -> frozenset[str]:
    unknown = sorted(set(names) - {nb.stem for nb in notebooks})
    if unknown:
        raise ValueError(f"{option}: unknown notebook(s) {unknown}; notebooks: {[nb.stem for nb in notebooks]}")
    return frozenset(names)


def _output_folders(profile: dict[str, Any], profile_name: str, root: Path) -> tuple[Path, Path]:
    """``paths.executed`` (created) and ``paths.figures`` of a profile, as absolute paths."""
    paths = profile.get("paths") or {}
    missing = [key for key in ("executed", "figures") if key not in paths]
    if missing:
        raise ValueError(f"profile {profile_name!r}: paths.{missing[0]} is required")
    executed_dir, figures_dir = resolve_key(paths["executed"], root), resolve_key(paths["figures"], root)
    executed_dir.mkdir(parents=True, exist_ok=True)
    return executed_dir, figures_dir


def _outermost(paths: list[Path]) -> tuple[Path, ...]:
    """The ``paths`` that lie in none of the others, each once."""
    return tuple(dict.fromkeys(p for p in paths if not any(p != q and p.is_relative_to(q) for q in paths)))


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _time_left(stems: list[str], entries: Mapping[str, Mapping[str, Any]], *, jobs: int) -> str:
    """``"; about 12 min left"`` from the last run's wall times of ``stems`` shared among ``jobs`` lanes, or ``""``
    if one has none."""
    times = [entries.get(stem, {}).get("wall_time_s") for stem in stems]
    if not stems or None in times:
        return ""
    return f"; about {_duration(sum(times) / jobs)} left"


@dataclass(frozen=True)
class _Run:
    """What every notebook of one run shares: where it runs, what the last run recorded, what is forced."""

    root: Path
    series: Series
    executed_dir: Path
    ignore: tuple[Path, ...]  # files and folders the runner writes (manifest, executed copies): never inputs
    earlier: Mapping[str, Any]  # the last run's notebook entries
    forced: frozenset[str]
    watched: tuple[Path, ...]  # folders where a write is checked against the declarations, beside each's own

    def check(self, notebook: Path) -> tuple[dict[str, Any], str | None]:
        """The notebook's fingerprint now and why it must run (None when up to date)."""
        previous = self.earlier.get(notebook.stem) or {}
        current = fingerprint(
            notebook,
            self.series.parameters(notebook.stem),
            self.series.accesses[notebook.stem],
            root=self.root,
            outputs=previous.get("outputs", {}),
            ignore=self.ignore,
        )
        reason = "forced" if notebook.stem in self.forced else stale_reason(previous, current, root=self.root)
        return current, reason

    def _theirs(self, written: Mapping[str, str], beside: Collection[str]) -> dict[str, str]:
        """``written`` less the files that notebooks run beside this one declare writing (theirs, not its)."""
        others = [self.series.accesses[stem] for stem in beside]
        return {
            key: stamp
            for key, stamp in written.items()
            if not any(other.writes_file(resolve_key(key, self.root)) for other in others)
        }

    def _undeclared(self, access: Access, written: Mapping[str, str], out: Path) -> list[str]:
        """The files of ``written`` (by path key) outside the declared write locations and the executed copy."""
        files = [resolve_key(key, self.root) for key in written]
        return [path_key(file, self.root) for file in files if file != out and not access.writes_file(file)]

    def _undeclared_reads(self, access: Access, log: Path) -> list[str]:
        """The files a strict run's kernel read (:mod:`~celldino_utils.runner.audit`) that the notebook does not
        declare: in none of its reads nor its write locations."""
        reads = audit.recorded_reads(log)
        declared = [*access.reads, *(w.path for w in access.writes)]
        return [path_key(f, self.root) for f in reads if not any(f.is_relative_to(place) for place in declared)]

    def execute(
        self, notebook: Path, entry: dict[str, Any], current: dict[str, Any], beside: Collection[str] = ()
    ) -> None:
        """Execute a notebook, filling its entry: wall time and status, then on success what it read and wrote.

        ``outputs`` are the files created or modified in its declared write locations while it ran, and its executed
        copy. Raises :class:`UndeclaredWrite` if it changed a file elsewhere (under what it reads, or under
        :attr:`watched`), and in a strict run :class:`UndeclaredRead` if its code opened an undeclared file under
        :attr:`watched`. ``beside`` names the notebooks that ran at the same time, read when it ends: the files they
        declare writing are theirs.
        """
        params, out = entry["parameters"], self.executed_dir / notebook.name
        access = self.series.accesses[notebook.stem]
        watched = list(dict.fromkeys([*(w.path for w in access.writes), *access.reads, *self.watched, out]))
        before = snapshot(watched, self.ignore)
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder:
            log = Path(folder) / "reads.txt"
            start_lines = audit.kernel_lines(log, self.watched) if self.watched else []
            try:
                _execute(notebook, params, root=self.root, out=out, start_lines=start_lines)
            except NotebookFailed:
                entry["status"] = "failed"
                raise
            finally:
                entry["wall_time_s"] = round(time.perf_counter() - start, 2)
            unread = self._undeclared_reads(access, log)
        written = self._theirs(written_outputs(before, snapshot(watched, self.ignore), self.root), beside)
        undeclared = self._undeclared(access, written, out)
        for problem, files, did, does in (
            (UndeclaredWrite, undeclared, "wrote", "writes"),
            (UndeclaredRead, unread, "read", "reads"),
        ):
            if files:
                entry["status"] = "failed"
                raise problem(
                    f"{notebook.name} {did} {len(files)} file(s) outside what configs/notebooks.yaml declares it "
                    f"{does}: {', '.join(files[:5])}"
                )
        inputs = input_stamps(list(access.reads), root=self.root, outputs=written, ignore=self.ignore)
        entry.update(status="ran", fingerprint={**current, "inputs": inputs}, outputs=written)


def _up_to_date(previous: Mapping[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The entry of a notebook that did not run: its last run's wall time, fingerprint and outputs."""
    keep = ("wall_time_s", "fingerprint", "outputs")
    return {"status": "up to date", "parameters": params, **{key: previous[key] for key in keep}}


def _must_follow(selected: list[Path], accesses: Mapping[str, Access]) -> dict[str, set[str]]:
    """Notebook -> the notebooks before it that it must wait for (:meth:`Access.must_follow`)."""
    stems = [nb.stem for nb in selected]
    return {
        stem: {earlier for earlier in stems[:index] if accesses[stem].must_follow(accesses[earlier])}
        for index, stem in enumerate(stems)
    }


@contextmanager
def _threads_per_kernel(jobs: int) -> Iterator[None]:
    """With ``jobs`` notebooks at once, each kernel's OpenMP threads get an equal share of the cores (unless
    ``OMP_NUM_THREADS`` is set already); kernels inherit the environment when they start."""
    if jobs == 1 or "OMP_NUM_THREADS" in os.environ:
        yield
        return
    os.environ["OMP_NUM_THREADS"] = str(core_share(jobs))
    try:
        yield
    finally:
        del os.environ["OMP_NUM_THREADS"]


def _run_selected(
    run: _Run, selected: list[Path], entries: dict[str, Any], say: Callable[[str], None], *, jobs: int
) -> None:
    """Run or skip each selected notebook, up to ``jobs`` at once, adding its entry to ``entries`` and reporting
    each step. A notebook starts once those it must follow have finished, in series order; it is checked for
    staleness then. After a failure no notebook starts, those running finish, and the first failure is raised."""
    reasons = {nb.stem: run.check(nb)[1] for nb in selected}
    expected = expected_runs(reasons, run.series.accesses)
    say(f"{len(selected)} notebooks, {len(expected)} to run{_time_left(expected, run.earlier, jobs=jobs)}")
    after = _must_follow(selected, run.series.accesses)
    labels = {nb.stem: f"[{index}/{len(selected)}] {nb.stem}" for index, nb in enumerate(selected, 1)}
    pending, finished, failure = list(selected), set(), None
    running: dict[Future, Path] = {}
    beside: dict[str, set[str]] = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        while True:
            notebook = next((nb for nb in pending if after[nb.stem] <= finished), None)
            if notebook is not None and failure is None and len(running) < jobs:
                pending.remove(notebook)
                stem, params = notebook.stem, run.series.parameters(notebook.stem)
                current, reason = run.check(notebook)
                if reason is None:
                    entries[stem] = _up_to_date(run.earlier[stem], params)
                    say(f"{labels[stem]}: up to date")
                    finished.add(stem)
                    continue
                check_inputs(params, notebook=notebook.name, root=run.root)
                say(f"{labels[stem]}: running ({reason})")
                entries[stem] = {"status": "running", "reason": reason, "parameters": params}
                beside[stem] = {nb.stem for nb in running.values()}
                for other in beside[stem]:
                    beside[other].add(stem)
                running[pool.submit(run.execute, notebook, entries[stem], current, beside[stem])] = notebook
                continue
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                stem = running.pop(future).stem
                try:
                    future.result()
                except NotebookFailed as error:
                    say(f"{labels[stem]}: failed after {entries[stem]['wall_time_s']:.1f} s")
                    failure = failure or error
                    continue
                finished.add(stem)
                later = [s for s in expected if s not in finished and s not in {nb.stem for nb in running.values()}]
                left = _time_left(later, run.earlier, jobs=jobs)
                say(f"{labels[stem]}: ran in {entries[stem]['wall_time_s']:.1f} s{left}")
    if failure is not None:
        raise failure


def run_series(
    profile_name: str,
    *,
    root: str | Path = ".",
    only: Collection[str] = (),
    force: bool | Collection[str] = False,
    progress: Callable[[str], None] | None = None,
    strict: bool = False,
    jobs: int | None = None,
) -> dict[str, Any]:
    """Run the notebooks of the series that changed since their last run, with the parameters of a profile.

    Parameters
    ----------
    profile_name : str
        A profile of ``configs/profiles`` (``default``, ``tiny``...).
    root : str or Path
        The project checkout.
    only : Collection[str]
        Notebook stems to consider (all when empty); the others are validated but not run.
    force : bool or Collection[str]
        Run every notebook considered (True), or these, even when up to date.
    progress : Callable[[str], None] or None
        Called with a line as each notebook starts and ends (index, status, time, estimated time left).
    strict : bool
        Also check the writes of each notebook under every folder of the profile's ``paths`` (not only where it
        reads and writes), and the files its code opens for reading there: slower on large data roots; the tests
        run the tiny profiles so.

    Returns
    -------
    dict
        The manifest, written to ``<paths.figures>/run_manifest.json``: per notebook its ``status`` (``ran``,
        ``up to date`` or ``failed``), the ``reason`` it ran, ``wall_time_s`` (of its last run), ``fingerprint``
        (what it read) and ``outputs`` (what it wrote); ``total_wall_time_s`` (the sum over the notebooks that ran)
        and ``elapsed_s`` (from the first start to the last end: less, where notebooks ran side by side). Executed
        notebooks go to ``paths.executed``.

    Raises
    ------
    MissingInputs
        Before executing anything, listing every input of the profile's ``sources`` that is missing.
    NotebookFailed
        At the first notebook that fails, naming it and the failing cell, or (:class:`UndeclaredWrite`,
        :class:`UndeclaredRead`) that wrote or read a file it does not declare; the manifest records the failure.
    """
    root = Path(root).resolve()
    series = check_series(profile_name, root=root)
    profile, notebooks = series.profile, series.notebooks
    chosen = _chosen(only, notebooks, "--only")
    selected = [nb for nb in notebooks if not chosen or nb.stem in chosen]
    forced = frozenset(nb.stem for nb in selected) if force is True else _chosen(force or (), notebooks, "--force")
    executed_dir, figures_dir = _output_folders(profile, profile_name, root)
    earlier = _earlier_manifest(figures_dir / MANIFEST_NAME, profile_name)
    ignore = (figures_dir / MANIFEST_NAME, executed_dir)
    watched = _outermost([resolve_key(str(p), root) for p in (profile.get("paths") or {}).values()]) if strict else ()
    run = _Run(root, series, executed_dir, ignore, earlier.get("notebooks", {}), forced, watched)
    jobs = profile.get("parallel_notebooks", 1) if jobs is None else jobs
    if jobs < 1:
        raise ValueError(f"jobs: must be at least 1, got {jobs}")
    manifest: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "profile": profile_name,
        "git": git_commit(root),
        "packages": package_versions(),
        "parallel_notebooks": jobs,
        "notebooks": {},
    }
    start = time.perf_counter()
    try:
        with _threads_per_kernel(jobs):
            _run_selected(run, selected, manifest["notebooks"], progress or (lambda line: None), jobs=jobs)
    finally:
        ran = [e["wall_time_s"] for e in manifest["notebooks"].values() if "reason" in e and "wall_time_s" in e]
        manifest["total_wall_time_s"] = round(sum(ran), 2)
        manifest["elapsed_s"] = round(time.perf_counter() - start, 2)
        manifest["notebooks"] = _with_earlier_entries(manifest["notebooks"], earlier, notebooks)
        manifest["data"] = _data_checksums(profile, root, earlier.get("data") or {})
        write_manifest(manifest, figures_dir / MANIFEST_NAME)
    return manifest
