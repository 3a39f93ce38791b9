"""Writes that need not hold up the next trial (figures, tables, the best model), done by one
background thread in the order they were queued.

    writer = BackgroundWriter()
    writer.submit(tracker.log_files, run_id, figures=figures)   # returns at once
    writer.drain()        # waits; re-raises the first failure (a full disk) in the caller

A failed write surfaces at the next `submit` or at `drain`, in the campaign's thread, so a
failure is reported once and clearly instead of dying silently in the thread.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable
from typing import Any


class BackgroundWriter:
    def __init__(self) -> None:
        self.pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="hpo-writer")
        self.pending: list[cf.Future] = []

    def submit(self, write: Callable[..., Any], *args: Any, **kwargs: Any) -> cf.Future:
        self._raise_failures(wait=False)
        future = self.pool.submit(write, *args, **kwargs)
        self.pending.append(future)
        return future

    def drain(self) -> None:
        """Wait for every queued write; re-raise the first that failed."""
        self._raise_failures(wait=True)

    def close(self) -> None:
        """Finish what is queued (a campaign that stops still gets its files), then stop."""
        self.pool.shutdown(wait=True)

    def _raise_failures(self, wait: bool) -> None:
        done = self.pending if wait else [f for f in self.pending if f.done()]
        for future in done:
            self.pending.remove(future)
            future.result()  # raises the write's exception here
