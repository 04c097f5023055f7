"""Compiling ahead while the sizing page is idle.

A deployment on one GPU has not built the layout's formula variants (nor one on several GPUs
the one-GPU formulas), so the first move of the tensor-parallel slider compiled them then
(0.5 s; later moves take 50 ms).  :class:`WarmUp`
compiles them once the page has had no input change for :data:`WARM_DELAY` seconds, once per
model, a figure at a time (:func:`warm_steps`): an input arriving meanwhile waits for one
figure's compile at most.  Only in a live kernel: a script or a test never waits on it.  The
served page compiles its first deployment's variants before it is shown
(:meth:`WarmUp.run`, through :meth:`llmphys.app.SizingApp.warm`).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any

from llmphys.app.figures import BOUNDED, FIGURES, value
from llmphys.app.panels import PARTS
from llmphys.controls import Deferred
from llmphys.errors import LlmphysError
from llmphys.scenario import Scenario

__all__ = ["WARM_DELAY", "WarmUp", "warm_steps"]

#: Seconds without any input change (each change restarts the wait) before compiling ahead.
WARM_DELAY = 2.0


def warm_steps(s: Scenario) -> list[Callable[[], None]]:
    """What the first change of layout would compile then, as small steps to run while the
    page is idle: each figure of the other side of the one-GPU line (``s`` on two GPUs, or on
    one when it has several: each side has its own formula variants; the first
    tensor-parallel move took 0.5 s, later ones 50 ms), each bound, the memory bar's parts,
    the frontier.  No step raises; nothing to do when the model takes no second GPU."""
    import llmphys
    from llmphys.app.frontier_panel import BATCHES

    try:
        alt = s.replace(tp=2) if s.n_gpus == 1 else s.replace(tp=1, pp=1, ep=1)
        bound = alt.bound()
    except (LlmphysError, ArithmeticError, ValueError):
        return []

    def quietly(compute: Callable[[], Any]) -> Callable[[], None]:
        def step() -> None:
            with contextlib.suppress(LlmphysError, ArithmeticError, ValueError):
                compute()

        return step

    steps = [quietly(functools.partial(value, alt, f)) for f in FIGURES.values()]
    steps += [quietly(functools.partial(value, bound, FIGURES[k])) for k in BOUNDED]
    steps += [quietly(functools.partial(alt.evaluate, k)) for k in PARTS]  # the memory bar
    steps.append(quietly(lambda: llmphys.frontier(alt, over={"batch": list(BATCHES)})))
    return steps


class WarmUp:
    """Runs :func:`warm_steps` of the page's deployment while it is idle.  ``now`` gives the
    model's key and the deployment in use; call :meth:`changed` after every change."""

    def __init__(self, now: Callable[[], tuple[str, Scenario | None]]) -> None:
        self._now = now
        self._first = Deferred(WARM_DELAY, self._step, without_loop=False)
        self._next = Deferred(0.0, self._step, without_loop=False)
        self.done: str | None = None  # the model whose layout variants are compiled
        self._plan: tuple[str, list[Callable[[], None]]] = ("", [])

    def changed(self) -> None:
        """An input changed: wait for quiet again (unless this model is done)."""
        key, _ = self._now()
        if self.done != key:
            self._next.cancel()
            self._first.schedule()

    def run(self) -> None:
        """Compile now, every step at once: for a page about to be shown (``llmphys app``
        does it before the page loads), so that its first layout change does not wait."""
        self._first.cancel()
        self._next.cancel()
        key, scenario = self._now()
        if scenario is None or self.done == key:
            return
        for step in warm_steps(scenario):
            step()
        self.done, self._plan = key, ("", [])

    def _step(self) -> None:
        key, scenario = self._now()
        if scenario is None:
            return
        if self._plan[0] != key:
            self._plan = (key, warm_steps(scenario))
        steps = self._plan[1]
        if steps:
            steps.pop(0)()
        if steps:
            self._next.schedule()
        else:
            self.done = key
