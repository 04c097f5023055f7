"""The time budget of symbolic work (llmphys.engine.budget): its signal must reach the
budgeted code, never a garbage collector's callback or a finalizer, where Python swallows the
exception and reports it as unraisable (a CI run failed so: the budget's SIGALRM landed in
hypothesis's gc callback while SymPy searched a closed form)."""

from __future__ import annotations

import gc
import sys
import time

import pytest

from llmphys.engine.budget import OverBudget, cannot_raise_in, time_budget


def test_a_signal_in_a_gc_callback_waits_and_then_stops_the_work():
    """The alarm fires while a gc callback runs (it sleeps past the budget): the callback
    ends normally, and the budgeted loop gets OverBudget right after.  An exception swallowed
    in the callback would fail this test (pytest turns unraisable exceptions into errors)."""
    seen: list[bool] = []

    def slow_callback(phase: str, info: dict) -> None:
        if phase == "start" and not seen:
            seen.append(cannot_raise_in(sys._getframe()))
            time.sleep(0.2)  # the 0.05 s budget runs out in here

    gc.callbacks.append(slow_callback)
    try:
        with pytest.raises(OverBudget), time_budget(0.05):
            gc.collect()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:  # the budget's retry stops this
                pass
    finally:
        gc.callbacks.remove(slow_callback)
    assert seen == [True]


def test_ordinary_frames_and_finalizers():
    assert not cannot_raise_in(sys._getframe())
    assert not cannot_raise_in(None)

    class Finalized:
        def __del__(self) -> None:
            frames.append(cannot_raise_in(sys._getframe()))

    frames: list[bool] = []
    Finalized()  # dropped at once: __del__ runs here
    assert frames == [True]
