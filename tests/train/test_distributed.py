"""A 2-process gloo run under torchrun, through the command line, on synthetic HPA files."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import torch

from celldino_utils.synthetic.hpa import generate_hpa, hpa_preset
from celldino_utils.train import CHECKPOINT_NAME, LOG_NAME, read_log

from .conftest import TINY_TRAIN

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_process_gloo_run_trains_and_checkpoints(tmp_path: Path) -> None:
    data = tmp_path / "hpa"
    generate_hpa(data, hpa_preset("tiny", n_images=20, n_proteins=10, image_size=40, cells_per_image=(1, 2)))
    out = tmp_path / "out"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
        "--master_addr=127.0.0.1", f"--master_port={_free_port()}",
        "-m", "celldino_utils.train",
        *TINY_TRAIN, "train.epoch_length=3", "compute.threads=1",
        f"data.path={data}", f"train.out_dir={out}",
    ]  # fmt: skip
    env = os.environ | {"HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    # A session of its own, so that a timeout ends torchrun and its workers together (none is left waiting on gloo).
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        _, stderr = process.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    assert process.returncode == 0, stderr[-3000:]
    checkpoint = torch.load(out / CHECKPOINT_NAME, weights_only=True)
    assert checkpoint["step"] == 3 and len(checkpoint["rng"]) == 2  # one RNG state per rank
    assert not torch.equal(checkpoint["rng"][0]["torch"], checkpoint["rng"][1]["torch"])
    log = read_log(out / LOG_NAME)
    assert log["step"].tolist() == [0, 1, 2] and log["loss"].notna().all()
    assert checkpoint["config"]["optim"]["lr"] > 0  # derived from the global batch of 2 x 4 images
