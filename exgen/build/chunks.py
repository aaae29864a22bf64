"""Work on many students at once: the items in chunks on every core (forked workers share
what the parent loaded: the sheet, its caches), results in the items' order."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def map_in_chunks(
    work: Callable[[Sequence[Item]], list[Result]],
    items: Sequence[Item],
    chunk: int,
    progress: Callable[[int], None] = lambda done: None,
) -> list[Result]:
    """``work`` of each chunk of ``items``, joined in order; ``progress`` gets the count
    done after each chunk. ``work`` must be picklable (a module function or a partial)."""
    chunks = [items[i : i + chunk] for i in range(0, len(items), chunk)]
    workers = min(os.cpu_count() or 1, len(chunks))
    out: list[Result] = []
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for part in chunks:
            out += work(part)
            progress(len(out))
        return out
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        for done in pool.map(work, chunks):
            out += done
            progress(len(out))
    return out
