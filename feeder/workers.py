"""Spread CPU-bound work (parsing, deriving, rendering) over the machine's cores.

Small batches run in this process: starting workers costs more than it
saves below a few hundred items. Workers are forked, so they need nothing
but the function and its arguments; results come back in input order.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: below this many items the work stays in this process
MIN_PARALLEL = 400


def workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def pmap(func: Callable[[T], R], items: Sequence[T], chunksize: int = 64) -> Iterable[R]:
    """``map(func, items)``, over several processes when it pays."""
    n = workers()
    if n < 2 or len(items) < MIN_PARALLEL or multiprocessing.current_process().daemon:
        return map(func, items)
    # fork is cheapest, but not safe once threads run (the service): then a fork server
    ctx = multiprocessing.get_context("fork" if threading.active_count() == 1 else "forkserver")
    pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx)

    def results() -> Iterable[R]:
        with pool:
            yield from pool.map(func, items, chunksize=chunksize)

    return results()
