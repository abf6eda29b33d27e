from __future__ import annotations

import os

import pytest
import torch

from celldino_utils.config.workers import worker_pool


def _threads_and_process(value: int) -> tuple[int, int, int]:
    return value * 2, torch.get_num_threads(), os.getpid()


def _fails(value: int) -> int:
    raise ValueError(f"value: {value} refused")


def test_one_process_runs_each_call_here_at_once() -> None:
    with worker_pool(1) as pool:
        future = pool.submit(_threads_and_process, 3)
        assert future.done()
        assert future.result() == (6, torch.get_num_threads(), os.getpid())


def test_workers_share_the_cores_and_return_results_in_the_order_asked() -> None:
    with worker_pool(2) as pool:
        futures = [pool.submit(_threads_and_process, value) for value in range(4)]
        results = [future.result() for future in futures]
    assert [doubled for doubled, _, _ in results] == [0, 2, 4, 6]
    assert {pid for _, _, pid in results} != {os.getpid()}
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert {threads for _, threads, _ in results} == {max(1, cores // 2)}


@pytest.mark.parametrize("processes", [1, 2])
def test_a_failing_run_raises_its_own_error(processes: int) -> None:
    with worker_pool(processes) as pool:
        future = pool.submit(_fails, 7)
        with pytest.raises(ValueError, match="value: 7 refused"):
            future.result()


def test_no_processes_is_refused() -> None:
    with pytest.raises(ValueError, match="processes"), worker_pool(0):
        pass
