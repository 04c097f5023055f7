"""The time budget of symbolic work (llmphys.engine.budget): its signal must stop the
budgeted code even when it lands where Python swallows exceptions (a garbage collector's
callback, a finalizer, a weakref callback), and must not be reported as unraisable (a CI run
failed so: the budget's SIGALRM landed in hypothesis's gc callback while SymPy searched a
closed form)."""

from __future__ import annotations

import gc
import sys
import time

import pytest

from llmphys.engine.budget import OverBudget, time_budget


def _loop_until_stopped() -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the budget's next signal stops this
        pass


def test_a_signal_swallowed_in_a_gc_callback_is_dropped_and_the_next_stops_the_work():
    """The alarm fires while a gc callback runs (it sleeps past the budget): the callback ends
    normally, nothing unraisable reaches pytest (it would fail the test), and the budgeted
    loop gets OverBudget right after."""
    ran: list[str] = []

    def slow_callback(phase: str, info: dict) -> None:
        if phase == "start" and not ran:
            ran.append(phase)
            time.sleep(0.2)  # the 0.05 s budget runs out in here

    gc.callbacks.append(slow_callback)
    try:
        with pytest.raises(OverBudget), time_budget(0.05):
            gc.collect()
            _loop_until_stopped()
    finally:
        gc.callbacks.remove(slow_callback)
    assert ran == ["start"]


def test_a_signal_swallowed_in_a_finalizer_is_dropped_too():
    class Slow:
        def __del__(self) -> None:
            time.sleep(0.2)

    with pytest.raises(OverBudget), time_budget(0.05):
        Slow()  # dropped at once: its finalizer runs here
        _loop_until_stopped()


def test_other_unraisable_exceptions_are_reported_as_before():
    seen: list[BaseException] = []
    before = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: seen.append(unraisable.exc_value)
    ours = sys.unraisablehook
    try:

        class Broken:
            def __del__(self) -> None:
                raise ValueError("a finalizer's own error")

        with time_budget(5):
            Broken()
        assert sys.unraisablehook is ours  # restored by the budget
    finally:
        sys.unraisablehook = before
    assert [str(e) for e in seen] == ["a finalizer's own error"]
