"""A time budget for symbolic work that can run away: SymPy factoring a high-degree polynomial
or simplifying a deep expression has no bound of its own.  And the one work no timer stops:
:func:`huge_exponent` tells when whole-number arithmetic would raise to a power so large that
the integer power itself (C code, no signal handled) runs for hours.

:func:`time_budget` raises :class:`OverBudget` inside the ``with`` block once ``seconds`` have
passed (by ``SIGALRM``, so only in the main thread of a Unix process; elsewhere the block runs
unbounded).  An outer timer (a caller's own limit) keeps running: the budget never extends it
and restores what is left of it afterwards.

Python swallows an exception raised where nothing can catch it: in a garbage collector's
callback, a finalizer, a weakref callback (it reports it as "unraisable" and carries on).  A
signal may land there, so each one re-arms the timer for 10 ms: the next lands in the
budgeted work.  While the budget runs, an OverBudget swallowed so is dropped quietly (it is
the budget's own signal, not an error); any other unraisable exception is reported as before.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sympy

__all__ = ["EXACT_POWER_LIMIT", "OverBudget", "huge_exponent", "time_budget"]

#: the largest exponent exact arithmetic may raise to (8 ** 70e9 has 63e9 digits)
EXACT_POWER_LIMIT = 10_000


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
        signal.setitimer(signal.ITIMER_REAL, _RETRY)  # again soon, should this one be swallowed
        raise OverBudget

    reported = sys.unraisablehook

    def report(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, OverBudget):
            reported(unraisable)

    sys.unraisablehook = report
    previous = signal.signal(signal.SIGALRM, stop)
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.unraisablehook = reported
        if outer_left:
            left = outer_left - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))


#: seconds before a budget's signal comes again, should the last one have been swallowed
_RETRY = 0.01


def huge_exponent(expr: sympy.Expr, values: Mapping[sympy.Symbol, Any]) -> bool:
    """Whether a power in ``expr`` gets an exponent above :data:`EXACT_POWER_LIMIT` once the
    symbols take ``values`` (numbers or SymPy numbers): then compute in floats, not exactly."""
    for power in expr.atoms(sympy.Pow):
        if not power.exp.free_symbols:
            continue
        exponent = power.exp.xreplace({s: sympy.sympify(v) for s, v in values.items()})
        finite = exponent.is_number and exponent.is_finite is not False
        if finite and abs(exponent) > EXACT_POWER_LIMIT:
            return True
    return False
