"""Independent runs side by side: a few worker processes sharing the CPU cores, or the caller's own process.

On a small CPU a ViT-Tiny training step keeps about one core busy whatever number of threads torch is given (on 2
cores a Cell Painting step of a 12-block ViT-Tiny/8 took 0.95 s with 2 threads and 0.99 s with 1), so two runs in two
single-thread processes finish in about the time of one. With ``processes=1`` (a GPU, or one run at a time) the
runs stay in the calling process, one after another.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

import torch

from celldino_utils.config.cores import core_share


class InProcess(Executor):
    """An executor that runs each call at once, in the calling process (``processes=1``): nothing is pickled."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - handed to the caller through the future, as a pool does
            future.set_exception(error)
        return future


def _share_cores(threads: int) -> None:
    torch.set_num_threads(threads)


@contextmanager
def worker_pool(processes: int) -> Iterator[Executor]:
    """An executor for independent runs: ``processes`` worker processes that share the cores, or the calling process.

    Parameters
    ----------
    processes
        Worker processes, each with an equal share of the cores as torch threads (at least one); they start with
        ``spawn``, so each imports what it runs. 1 runs every call in the calling process, with its threads.

    Yields
    ------
    concurrent.futures.Executor
        ``submit`` what can run side by side; a worker's error comes back from its future's ``result()``.

    Raises
    ------
    ValueError
        If ``processes`` is below 1.
    """
    if processes < 1:
        raise ValueError(f"processes: must be at least 1, got {processes}")
    if processes == 1:
        yield InProcess()
        return
    context = multiprocessing.get_context("spawn")
    threads = core_share(processes)
    with ProcessPoolExecutor(processes, mp_context=context, initializer=_share_cores, initargs=(threads,)) as pool:
        yield pool
