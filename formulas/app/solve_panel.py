"""The sizing page's "solve for" section: pick a figure, an input to solve for, a target and
a bound; the answer is :meth:`llmphys.Scenario.solve` of the scenario in use, with its worked
derivation on demand."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import ipywidgets as widgets

from llmphys.app.figures import QUESTIONS, unknowns
from llmphys.app.views import (
    EXPECTED,
    error_html,
    escape,
    page_number,
    solution_html,
    span,
    toggle_label,
)
from llmphys.engine.formula import registry
from llmphys.scenario import Scenario

__all__ = ["SolvePanel"]

_BOUNDS = (("≤ at most", "at_most"), ("≥ at least", "at_least"), ("= exactly", "equal"))
_TARGETS = {
    "ttft": "2 s",
    "tpot": "50 ms",
    "tokens_per_second_per_user": "20 tok/s",
    "tokens_per_second_per_gpu": "1000 tok/s",
}
#: the unknown a picked figure opens on: the first of these the deployment can answer (a
#: deployment whose weights do not fit has no largest context: it asks for the bytes per
#: weight that would fit)
_FIRST_UNKNOWN = {
    "memory_per_gpu": ("seq_len", "batch", "bytes_per_param"),
    "ttft": ("prompt_len", "batch"),
    "tpot": ("batch",),
    "tokens_per_second_per_user": ("batch",),
    "tokens_per_second_per_gpu": ("batch",),
}


class SolvePanel:
    """The widgets of "solve for" and what they do.  ``held()`` changes widgets without the
    page recomputing; ``changed`` and ``toggled`` are the page's handlers."""

    def __init__(
        self,
        held: Callable[[], AbstractContextManager[None]],
        changed: Callable[..., None],
        toggled: Callable[..., None],
    ) -> None:
        self._held = held
        self.solution: Any = None
        self.question = widgets.Dropdown(
            options=[("pick a figure…", ""), *((q.label, n) for n, q in QUESTIONS.items())],
            value="",
            description="figure",
            layout=widgets.Layout(width="22em"),
        )
        self.question.add_class("llmphys-solve-question")
        self.unknown = widgets.Dropdown(
            description="solve for", layout=widgets.Layout(width="30em")
        )
        self.unknown.add_class("llmphys-solve-for")
        self.bound = widgets.ToggleButtons(options=_BOUNDS, value="at_most")
        self.bound.add_class("llmphys-solve-bound")
        self.target = widgets.Text(
            description="target",
            placeholder="e.g. 80 GB, 2 s, 20 tok/s",
            continuous_update=False,
            layout=widgets.Layout(width="18em"),
        )
        self.target.add_class("llmphys-solve-target")
        self.answer = widgets.HTML()
        self.answer.add_class("llmphys-solve-answer")
        self.message = widgets.HTML()
        self.message.add_class("llmphys-error")
        self.message.add_class("llmphys-solve-message")
        self.toggle = widgets.ToggleButton(value=False, description="show derivation")
        self.toggle.add_class("llmphys-derive-solve")
        toggle_label(self.toggle)
        self.derivation = widgets.HTMLMath(layout=widgets.Layout(display="none"))
        self.derivation.add_class("llmphys-derivation-solve")
        self.box = widgets.VBox(
            [
                widgets.HBox([self.unknown]),
                widgets.HBox([self.target, self.bound]),
                self.answer,
                self.message,
                self.toggle,
                self.derivation,
            ],
            layout=widgets.Layout(display="none"),
        )
        for control in (self.unknown, self.bound, self.target):
            control.observe(changed, "value")
        self.toggle.observe(toggled, "value")

    def pick(self, name: str, scenario: Scenario | None) -> None:
        """A figure was picked: its usual bound, a default target and a first unknown."""
        self.box.layout.display = None if name else "none"
        if not name:
            return
        with self._held():
            self.bound.value = QUESTIONS[name].bound
            self.target.value = self._default_target(name, scenario)
            self.sync(scenario, prefer=self._answerable(name, scenario))

    def _answerable(self, name: str, scenario: Scenario | None) -> str | None:
        """The first of the figure's usual unknowns the deployment answers at the default
        target (the page opens on an answer, not on a refusal)."""
        wanted = _FIRST_UNKNOWN.get(name, ())
        if scenario is None or not wanted:
            return None
        offered = unknowns(scenario, name)
        for unknown in wanted:
            if unknown not in offered:
                continue
            try:
                scenario.solve(unknown, self.target.value, of=name, bound=self.bound.value)
            except EXPECTED:
                continue
            return unknown
        return wanted[0]

    def sync(self, scenario: Scenario | None, prefer: str | None = None) -> None:
        """The unknowns on offer: the picked figure's inputs in this scenario."""
        name = self.question.value
        if not name or scenario is None:
            return
        gloss = registry.glossary
        names = unknowns(scenario, name)
        options = [
            (textwrap.shorten(f"{gloss[n].text}: {gloss[n].meaning}", 80, placeholder=" …"), n)
            for n in names
        ]
        current = prefer if prefer in names else self.unknown.value
        if list(self.unknown.options) != options:
            self.unknown.options = options
        self.unknown.value = current if current in names else names[0]

    @staticmethod
    def _default_target(name: str, scenario: Scenario | None) -> str:
        """The figure's usual target; for memory per GPU, one GPU's capacity exactly (in MiB
        as the driver reports it, else in bytes): a rounded capacity would move the answer."""
        if name == "memory_per_gpu" and scenario is not None:
            mib = scenario.capacity.to("MiB").magnitude
            if float(mib).is_integer():
                return f"{int(mib)} MiB"
            return f"{int(scenario.capacity.to('B').magnitude)} B"
        return _TARGETS.get(name, "")

    def clear(self, reason: str) -> None:
        """No answer while the page's inputs make no deployment: say so, keep nothing old."""
        self.solution = None
        self.answer.value = ""
        self.message.value = error_html(reason) if self.question.value else ""
        self.render_derivation()

    def update(self, scenario: Scenario) -> None:
        """Answer the question for ``scenario`` (or say what is wrong)."""
        self.solution = None
        self.answer.value = self.message.value = ""
        name = self.question.value
        if not name:
            return
        with self._held():
            self.sync(scenario)
        text = self.target.value.strip()
        if not text:
            self.message.value = error_html("type a target, such as 80 GB, 2 s or 20 tok/s")
            return
        reading = ""
        try:
            float(text.replace(",", ""))
        except ValueError:
            pass
        else:  # a bare number is read in the figure's unit: say so, never silently
            unit = f"{registry[name].unit:~P}" or "(no unit)"
            reading = (
                f' <small class="llmphys-solve-reading" style="color:#555">(target read as '
                f"{escape(text)} {escape(unit)}: type a unit to give another)</small>"
            )
        try:
            self.solution = s = scenario.solve(
                self.unknown.value, text, of=name, bound=self.bound.value
            )
        except EXPECTED as exc:
            self.message.value = error_html(str(exc)) + reading
            return
        entry = registry.glossary[s.unknown]
        unit = f" {entry.unit_text}" if entry.unit_text else ""
        value = float(s.value.magnitude)
        exact = entry.integer or s.rounding is not None
        answer = span("solve_value", value, f"{page_number(value, exact=exact)}{unit}")
        question = s.to_dict()["question"]
        self.answer.value = f"{escape(question)}: <b>{entry.text} = {answer}</b>{reading}"

    def render_derivation(self) -> None:
        if not self.toggle.value or self.solution is None:
            self.derivation.value = ""
            self.derivation.layout.display = "none"
        else:
            self.derivation.layout.display = None
            self.derivation.value = solution_html(self.solution)
