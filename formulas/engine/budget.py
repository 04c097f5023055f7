"""A time budget for symbolic work that can run away: SymPy factoring a high-degree polynomial
or simplifying a deep expression has no bound of its own.

:func:`time_budget` raises :class:`OverBudget` inside the ``with`` block once ``seconds`` have
passed (by ``SIGALRM``, so only in the main thread of a Unix process; elsewhere the block runs
unbounded).  An outer timer (a caller's own limit) keeps running: the budget never extends it
and restores what is left of it afterwards.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["OverBudget", "time_budget"]


class OverBudget(Exception):  # noqa: N818 - a signal, not an error users see
    """The budgeted work took longer than allowed; the caller takes its fallback."""


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return
    outer_left, _ = signal.getitimer(signal.ITIMER_REAL)
    if outer_left and outer_left <= seconds:
        yield  # an outer limit ends first: leave its timer alone
        return

    def stop(signum: int, frame: Any) -> None:
        raise OverBudget

    previous = signal.signal(signal.SIGALRM, stop)
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left:
            left = outer_left - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))
