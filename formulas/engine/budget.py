"""A time budget for symbolic work that can run away: SymPy factoring a high-degree polynomial
or simplifying a deep expression has no bound of its own.  And the one work no timer stops:
:func:`huge_exponent` tells when whole-number arithmetic would raise to a power so large that
the integer power itself (C code, no signal handled) runs for hours.

:func:`time_budget` raises :class:`OverBudget` inside the ``with`` block once ``seconds`` have
passed (by ``SIGALRM``, so only in the main thread of a Unix process; elsewhere the block runs
unbounded).  An outer timer (a caller's own limit) keeps running: the budget never extends it
and restores what is left of it afterwards.  A signal that lands in a garbage collector's
callback or a finalizer, where Python would swallow the exception (and report it as
unraisable), waits 10 ms and tries again.
"""

from __future__ import annotations

import gc
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sympy

__all__ = ["EXACT_POWER_LIMIT", "OverBudget", "cannot_raise_in", "huge_exponent", "time_budget"]

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
        if cannot_raise_in(frame):
            signal.setitimer(signal.ITIMER_REAL, _RETRY)  # out of the callback by then
            return
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


#: seconds before a budget's signal, which landed where it could not raise, tries again
_RETRY = 0.01


def cannot_raise_in(frame: Any) -> bool:
    """Whether an exception raised in ``frame`` would be swallowed, not reach the budgeted
    code: a garbage collector's callback (hypothesis registers one) or a finalizer."""
    code = getattr(frame, "f_code", None)
    if code is None:
        return False
    if code.co_name == "__del__":
        return True
    return any(getattr(callback, "__code__", None) is code for callback in gc.callbacks)


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
