"""What an :class:`~llmphys.widgets.Explorer` says of its result: the value (bytes also in
binary units) and the answer of a solve with its question, rounding and check, as HTML."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pint

from llmphys.controls import _escape
from llmphys.engine.formatting import format_quantity, text_number
from llmphys.units import ureg

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.formula import Formula
    from llmphys.engine.solution import Solution

__all__ = ["result_html", "solution_html"]


def result_html(formula: Formula, q: pint.Quantity) -> str:
    """The result line: the formula's symbol and value (three significant digits)."""
    shown = format_quantity(q, sig=3, latex=True)
    binary = ""
    if q.dimensionality == ureg.byte.dimensionality:
        binary = rf" = {format_quantity(q, sig=3, binary=True, latex=True)}"
    return f"<b>result</b>: ${formula.entry.latex} = {shown}{binary}$"


def solution_html(formula: Formula, s: Solution) -> str:
    """The answer of a solve: the question, the answer, how it was rounded and found, and
    the formula's value there (the check)."""
    entry = formula.registry.glossary[s.unknown]
    unit = f" {entry.unit_text}" if entry.unit_text else ""
    value = float(s.value.magnitude)
    answer = f"{entry.text} = {text_number(value, exact=entry.integer)}{unit}"
    word = {"largest": "largest", "smallest": "smallest", "exact": ""}[s.direction]
    relation = {"at_most": "≤", "at_least": "≥", "equal": "="}[s.bound]
    question = (
        f"{word} {entry.text} with {formula.entry.text} {relation} "
        f"{format_quantity(s.target, sig=4)}"
    ).strip()
    lines = [f"<b>{_escape(question)}</b>: <b>{_escape(answer)}</b>"]
    if s.rounding is not None and s.exact is not None:
        how = {"floor": "rounded down", "ceil": "rounded up", "nearest": "rounded"}
        exact = f"{float(s.exact.magnitude):.10g}"
        lines.append(f"{how[s.rounding]} from {exact}{unit} ({_escape(s.method)} solve)")
    else:
        lines.append(f"({_escape(s.method)} solve)")
    if s.check is not None:
        lines.append(result_html(formula, s.check).replace("<b>result</b>", "check"))
    return "<br>".join(lines)
