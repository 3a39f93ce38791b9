"""One driver per campaign name: an OS advisory lock held while `run_campaign` runs.

    with campaign_lock(store.path, "gop-1"):   # CampaignBusy if another process holds it
        ...

`fcntl.flock` on `<store>/locks/<name>.lock`, taken without waiting. The kernel releases it
when the holding process ends in any way (SIGKILL included), so a killed campaign never leaves
its name stuck; the file itself stays and only says who held it last. Campaigns with different
names each take their own lock and run side by side on one store.

The lock is per machine (per filesystem that honours flock): campaigns whose runs live on a
shared MLflow server and whose Ax state lives in a shared database (`--ax-db`) are guarded only
against a second driver on the same machine and store folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def held_while(path: Path) -> Iterator[None]:
    """A blocking `flock` on `path`: processes on this machine run the block one at a time
    (two campaigns starting on one fresh store would otherwise both create Ax's tables)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class CampaignBusy(RuntimeError):
    """Another process is running this campaign now."""


def lock_path(store: Path, name: str) -> Path:
    """A file name for any campaign name (names may hold '/', spaces, ...): the safe characters
    kept, plus a short digest so that two names never share a file."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:80]
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return store / "locks" / f"{safe}-{digest}.lock"


@contextmanager
def campaign_lock(store: Path, name: str) -> Iterator[Path]:
    path = lock_path(store, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "pid unknown"
            raise CampaignBusy(f"campaign {name} is already running ({holder}); wait for it "
                               "to end, or stop it, then run this again to resume") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}"
                      .encode(), 0)
        yield path
    finally:
        os.close(fd)  # releases the lock (the kernel does the same if this process is killed)
