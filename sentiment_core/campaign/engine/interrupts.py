"""Ctrl-C and `kill` that always stop a campaign.

Python raises KeyboardInterrupt wherever the main thread happens to be. Inside a weakref
callback or a `__del__` it is printed as "Exception ignored" and lost: seen on a 20-trial
campaign, which went on to its next trial. The CLI's handlers therefore also record the
request (`request`), and the scheduler raises it again after every event (`raise_if_requested`).
"""

from __future__ import annotations

_requested: list[type[BaseException]] = []


def request(kind: type[BaseException]) -> None:
    """Called by a signal handler before it raises `kind` (KeyboardInterrupt or a subclass)."""
    if not _requested:
        _requested.append(kind)


def raise_if_requested() -> None:
    """Raise the interrupt a handler recorded, if it has not ended the campaign yet."""
    if _requested:
        raise _requested.pop()()


def clear() -> None:
    _requested.clear()
