"""Two deployments side by side: the page's deployment (A) beside one pinned earlier (B).

"pin as B" keeps the page's state as B; change anything (the accelerator, a precision, the
layout) and the table shows every figure of the page for A and B, their ratio, and the rows
that differ highlighted, then the inputs that differ.  "swap" puts B on the page and pins A;
"unpin" drops B.  B is a :class:`~llmphys.app.page_state.PageState`, so a link to the page
carries it (``vs=`` with B's own query string).

Hooks: the table is ``llmphys-compare``; each figure's row is ``<tr class="llmphys-compare-row
[llmphys-differs]" data-key=... data-a=... data-b=...>`` (numbers in the formula's unit, ``""``
for no result); an input's row is ``llmphys-compare-input``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets

from llmphys.app.figures import FIGURES, Figure, number_of, value
from llmphys.app.page_state import PageState
from llmphys.app.views import EXPECTED, error_html, escape, page_number, quantity_text
from llmphys.engine.formula import registry
from llmphys.scenario import Scenario

__all__ = ["ComparePanel", "compare_html", "figure_text"]

_DIFFERS = ' style="background:#fff3cd;font-weight:600"'
_EMPTY = (
    "<small style='color:#555'>Pin this deployment as B, then change any input: the two "
    "appear side by side, the differences highlighted.</small>"
)


def figure_text(figure: Figure, result: Any) -> str:
    """A figure's value in words (as its row on the page shows it, without hooks)."""
    if result is None:
        return "none"
    if figure.kind == "layout":
        return f"{result.n_gpus} (n_TP = {result.value('tp'):g} x n_PP = {result.value('pp'):g})"
    if figure.kind == "context":
        return f"{page_number(float(result.value.magnitude), exact=True)} tok"
    if figure.kind == "solve":
        unit = registry.glossary[result.unknown].unit_text
        return f"{page_number(float(result.value.magnitude), exact=True)} {unit}".strip()
    return quantity_text(result)


def _results(s: Scenario) -> dict[str, Any]:
    """Every figure of the page for ``s`` (None where it has no result)."""
    out: dict[str, Any] = {}
    for key, figure in FIGURES.items():
        try:
            out[key] = value(s, figure)
        except EXPECTED:
            out[key] = None
    return out


def compare_html(a: Scenario, a_results: Mapping[str, Any], b: Scenario,
                 b_results: Mapping[str, Any]) -> str:  # fmt: skip
    """The side-by-side table of two deployments' figures (``*_results``: by figure key, as
    :func:`~llmphys.app.figures.value` gives them) and the inputs that differ."""
    from llmphys.scenario_report import compare, title

    rows = []
    for key, figure in FIGURES.items():
        x, y = number_of(figure, a_results.get(key)), number_of(figure, b_results.get(key))
        differs = x != y and not (
            x is not None and y is not None and math.isclose(x, y, rel_tol=1e-9)
        )
        ratio = f"{y / x:.3g}x" if x and y is not None and differs else ""
        marks = (" llmphys-differs", _DIFFERS) if differs else ("", "")
        rows.append(
            f'<tr class="llmphys-compare-row{marks[0]}" data-key="{key}" '
            f'data-a="{"" if x is None else repr(x)}" data-b="{"" if y is None else repr(y)}"'
            f"{marks[1]}>"
            f"<td>{escape(figure.label)}</td>"
            f"<td>{escape(figure_text(figure, a_results.get(key)))}</td>"
            f"<td>{escape(figure_text(figure, b_results.get(key)))}</td><td>{ratio}</td></tr>"
        )
    inputs = compare(a, b, ()).inputs
    for name, x_text, y_text in inputs:
        rows.append(
            f'<tr class="llmphys-compare-input" data-name="{name}" style="color:#555">'
            f"<td>input {escape(name)}</td><td>{escape(x_text)}</td><td>{escape(y_text)}</td>"
            "<td></td></tr>"
        )
    head = (
        "<tr><th></th>"
        f'<th title="{escape(title(a))}">A: this page</th>'
        f'<th title="{escape(title(b))}">B: pinned</th><th>B / A</th></tr>'
    )
    return (
        f"<small style='color:#555'>A: {escape(title(a))}<br>B: {escape(title(b))}</small>"
        '<table class="llmphys-compare" style="border-collapse:collapse">'
        f"{head}{''.join(rows)}</table>"
    )


class ComparePanel:
    """The compare section: ``pin``, ``swap`` and ``unpin`` buttons, ``table`` (HTML) and
    ``box`` (the section).  ``state`` reads the page's state, ``apply`` puts a state on the
    page (then recomputes it), ``build`` makes a state's Scenario, ``changed`` is called when
    B changes (the page's link follows)."""

    def __init__(
        self,
        state: Callable[[], PageState],
        apply: Callable[[PageState], None],
        build: Callable[[PageState], Scenario],
        changed: Callable[[], None],
    ) -> None:
        self._state, self._apply, self._build, self._changed = state, apply, build, changed
        self.pinned: PageState | None = None
        self._b: Scenario | None = None
        self._b_results: dict[str, Any] = {}
        self.pin = widgets.Button(description="pin as B", tooltip="keep this deployment as B")
        self.pin.add_class("llmphys-pin")
        self.swap = widgets.Button(description="swap A and B", disabled=True)
        self.swap.add_class("llmphys-swap")
        self.unpin = widgets.Button(description="unpin B", disabled=True)
        self.unpin.add_class("llmphys-unpin")
        self.table = widgets.HTML(_EMPTY)
        self.table.add_class("llmphys-compare-box")
        self.pin.on_click(lambda _: self.set(self._state()))
        self.unpin.on_click(lambda _: self.set(None))
        self.swap.on_click(lambda _: self._swap())
        self.box = widgets.VBox([widgets.HBox([self.pin, self.swap, self.unpin]), self.table])

    def set(self, state: PageState | None) -> None:
        """Pin ``state`` as B (None: unpin) and show the comparison."""
        self.pinned = state
        self._b, self._b_results = None, {}
        if state is not None:
            try:
                self._b = self._build(state)
            except EXPECTED as exc:
                self.pinned = None
                self.table.value = error_html(f"B cannot be pinned: {exc}")
                self._buttons()
                return
            self._b_results = _results(self._b)
        self._buttons()
        self._changed()

    def _swap(self) -> None:
        if self.pinned is None:
            return
        a, b = self._state(), self.pinned
        self.pinned, self._b, self._b_results = None, None, {}
        self._apply(b)  # the page recomputes with B on it
        self.set(a)

    @property
    def scenario(self) -> Scenario | None:
        """The deployment pinned as B, or None."""
        return self._b

    def _buttons(self) -> None:
        self.swap.disabled = self.unpin.disabled = self.pinned is None

    def update(self, a: Scenario | None, a_results: Mapping[str, Any]) -> None:
        """The table for the page's deployment ``a`` (its figures ``a_results``)."""
        if self._b is None:
            if self.pinned is None:
                self.table.value = _EMPTY
            return
        if a is None:
            self.table.value = error_html("no comparison: the inputs above make no deployment")
            return
        self.table.value = compare_html(a, a_results, self._b, self._b_results)
