"""The sizing page's pieces: a figure's view (its value with a DOM hook, a derivation on
demand) and the HTML helpers the page shares.  No physics here: values come from
:mod:`llmphys.app.figures`, i.e. from one :class:`llmphys.Scenario`."""

from __future__ import annotations

import html
import math
from typing import Any

import ipywidgets as widgets
import pint

from llmphys.app.figures import BOUNDED, Figure, derivation, number_of, value
from llmphys.engine.formatting import format_quantity, grouped, text_number
from llmphys.engine.formula import registry
from llmphys.errors import LlmphysError
from llmphys.scenario import Scenario
from llmphys.units import ureg

__all__ = [
    "EXPECTED",
    "FigureView",
    "error_html",
    "escape",
    "hook",
    "page_number",
    "quantity_text",
    "short_error_html",
    "solution_html",
    "span",
    "toggle_label",
]

#: Errors a user can cause; they are shown as messages.
EXPECTED = (LlmphysError, pint.PintError, ValueError, ArithmeticError)

_ROW_LABEL = widgets.Layout(width="17em")


def hook(key: str) -> str:
    """The CSS class of a figure or an input: ``llmphys-total-vram``."""
    return "llmphys-" + key.replace("_", "-")


def escape(text: str) -> str:
    return html.escape(str(text)).replace("\n", "<br>")


def error_html(text: str) -> str:
    return f'<span class="llmphys-message" style="color:#b00020">{escape(text)}</span>'


def short_error_html(text: str, limit: int = 90) -> str:
    """A refusal in a figure's row: its first clause there, the whole message on demand (a
    long solver message would squeeze the page)."""
    if len(text) <= limit:
        return error_html(text)
    head = text.split("; ")[0].split(". ")[0]
    if head.startswith("solve ") and ": " in head:  # "solve memory_per_gpu for seq_len: ..."
        head = head.split(": ", 1)[1]
    if len(head) > limit:
        head = head[:limit].rsplit(" ", 1)[0] + " …"
    return (
        f'<details class="llmphys-message-details"><summary>{error_html(head)}</summary>'
        f'<small style="color:#555">{escape(text)}</small></details>'
    )


def page_number(x: float, exact: bool = False) -> str:
    """A number as the page shows it: thousands separators, no exponent below 10^15, four
    significant figures unless ``exact`` (a count, a rounded answer) keeps every digit up to
    two decimals: ``2,685,244``, ``2,685,244.3``, ``0.0123``."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    if abs(x) >= 1e15 or abs(x) < 1e-3:
        return text_number(x, sig=4)
    if float(x).is_integer():  # a whole number (a batch, a count) is never 64.00
        return grouped(x)
    if exact:
        shown = f"{x:,.2f}".rstrip("0").rstrip(".")
        return shown
    decimals = max(0, 3 - math.floor(math.log10(abs(x))))
    return f"{x:,.{decimals}f}"


def toggle_label(toggle: widgets.ToggleButton, what: str = "derivation") -> None:
    """A toggle that says what it does: "show derivation", then "hide derivation"."""

    def relabel(change: dict[str, Any]) -> None:
        toggle.description = f"{'hide' if change['new'] else 'show'} {what}"

    toggle.observe(relabel, "value")


def span(key: str, number: float, shown: str) -> str:
    return f'<span class="{hook(key)}" data-value="{float(number)!r}">{escape(shown)}</span>'


def quantity_text(q: pint.Quantity) -> str:
    shown = format_quantity(q, sig=3)
    if q.dimensionality == ureg.byte.dimensionality:
        shown += f" = {format_quantity(q, sig=3, binary=True)}"
    return shown


def solution_html(solution: Any) -> str:
    """A :class:`~llmphys.Solution` for an HTMLMath widget: the question, then its worked
    derivation (the rearranged formula, the numbers, the rounding and the check)."""
    question = solution.to_dict()["question"]
    return f"<b>{escape(question)}</b>{solution._repr_latex_()}"


class FigureView:
    """One figure: its value (with the DOM hook), a "show derivation" toggle and the
    derivation itself (rendered only while the toggle is on)."""

    def __init__(self, figure: Figure) -> None:
        self.figure = figure
        self.result: Any = None  # a quantity, a Solution, or the fewest GPUs' Scenario
        self.bound: Any = None  # the same figure at the roofline bound (speed figures)
        self.error = ""
        self._scenario: Scenario | None = None
        #: the last derivation rendered, and the deployment it is of
        self._derived: tuple[Scenario, str] | None = None
        self.value = widgets.HTML(layout=widgets.Layout(min_width="14em"))
        self.value.add_class("llmphys-figure")
        self.toggle = widgets.ToggleButton(
            value=False,
            description="show derivation",
            tooltip=f"the worked derivation of {figure.label} (SymPy)",
            layout=widgets.Layout(width="11em", flex="0 0 auto"),  # never squeezed
        )
        self.toggle.add_class(hook("derive_" + figure.key))
        toggle_label(self.toggle)
        self.derivation = widgets.HTMLMath(layout=widgets.Layout(display="none"))
        self.derivation.add_class(hook("derivation_" + figure.key))
        label = widgets.HTML(f"{escape(figure.label)}", layout=_ROW_LABEL)
        label.add_class(hook("label_" + figure.key))
        self.widget = widgets.VBox(
            [widgets.HBox([label, self.value, self.toggle]), self.derivation]
        )

    def compute(self, scenario: Scenario, bound: Scenario | None = None) -> None:
        """The figure of ``scenario``; beside it, for a speed figure, the same figure of
        ``bound`` (the deployment at the roofline)."""
        self._scenario = scenario
        try:
            self.result = value(scenario, self.figure)
            self.bound = (
                value(bound, self.figure)
                if bound is not None and self.figure.key in BOUNDED
                else None
            )
        except EXPECTED as exc:
            self.fail(str(exc))
            return
        self.error = ""
        self.value.value = self._html()

    def fail(self, message: str, scenario: Scenario | None = None) -> None:
        self._scenario = scenario
        self.result = self.bound = None
        self.error = message
        self.value.value = (
            f'<span class="{hook(self.figure.key)} llmphys-figure-error">'
            f"{short_error_html(message)}</span>"
        )

    @property
    def number(self) -> float | None:
        """The figure as a plain number (the formula's unit, GPUs for the layout), or None."""
        return number_of(self.figure, self.result)

    def _html(self) -> str:
        key = self.figure.key
        kind = self.figure.kind
        if kind == "value":
            shown = span(key, self.result.magnitude, quantity_text(self.result))
            if self.bound is None:
                return shown
            bound = span("bound_" + key, self.bound.magnitude, quantity_text(self.bound))
            return (
                f'{shown} <small style="color:#555">expected · bound {bound} (ideal)</small>'
            )
        if kind == "layout":
            best = self.result
            tp, pp = (f"{best.value(n):g}" for n in ("tp", "pp"))
            return span(key, best.n_gpus, f"{best.n_gpus}") + (
                f' <small style="color:#555">(n_TP = {tp} x n_PP = {pp})</small>'
            )
        s = self.result
        if kind == "context":
            number = float(s.value.magnitude)
            text = "no limit" if s.binds == "none" else f"{page_number(number, exact=True)} tok"
            shown = span(key, number, text)
            return shown + f' <small style="color:#555">· {escape(s.message)}</small>'
        entry = registry.glossary[s.unknown]
        unit = f" {entry.unit_text}" if entry.unit_text else ""
        number = float(s.value.magnitude)
        shown = span(key, number, f"{page_number(number, exact=True)}{unit}")
        if s.rounding is not None and s.exact is not None:
            how = {"floor": "rounded down", "ceil": "rounded up", "nearest": "rounded"}
            shown += (
                f' <small style="color:#555">({how[s.rounding]} from '
                f"{page_number(float(s.exact.magnitude), exact=True)})</small>"
            )
        return shown

    def render_derivation(self) -> None:
        """Show the derivation while the toggle is on (the same deployment's is rendered once:
        hiding and showing it again costs no second derivation)."""
        if not self.toggle.value:
            self.derivation.value = ""
            self.derivation.layout.display = "none"
            return
        self.derivation.layout.display = None
        if self.result is None or self._scenario is None:
            self.derivation.value = f"<i>{escape(self.error or 'no result')}</i>"
            return
        if self._derived is None or self._derived[0] is not self._scenario:
            self._derived = (self._scenario, self._derivation_html())
        self.derivation.value = self._derived[1]

    def _derivation_html(self) -> str:
        try:
            if self.figure.kind == "solve":
                return solution_html(self.result)
            if self.figure.kind == "context":
                answer = self.result
                worked = "" if answer.memory is None else solution_html(answer.memory)
                return f"<b>{escape(str(answer))}</b><br>" + worked
            worked = derivation(self._scenario, self.figure)
            head = ""
            if self.figure.kind == "layout":
                head = f"<b>{escape(repr(self.result))}: memory per GPU</b>"
            return head + worked._repr_latex_()
        except EXPECTED as exc:
            return f"<i>{escape(str(exc))}</i>"
