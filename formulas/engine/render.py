"""Rendering shared by derivations and solutions: a piece of output in LaTeX and plain text
(:class:`Rendered`), numbers with their units (:func:`value_text`), expressions in a formula's
conventional symbols, with or without values substituted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass, field
from typing import TYPE_CHECKING

import pint
import sympy

from llmphys.engine.formatting import grouped, latex_number, readable, text_number
from llmphys.engine.printing import to_latex, to_text
from llmphys.units import Q_, ureg

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.formula import Formula


_COMPUTE = ureg.FLOP.dimensionality


@dataclass(frozen=True)
class Rendered:
    """The same piece of math as LaTeX and as plain text."""

    latex: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"latex": self.latex, "text": self.text}


def _has_dimension(unit: pint.Unit) -> bool:
    return bool(unit.dimensionality)


def _unit_text(unit: pint.Unit) -> str:
    return f"{unit:~P}"


def _latex_unit(unit: pint.Unit) -> str:
    text = _unit_text(unit).replace("µ", r"\mu ").replace("·", r"\cdot ")
    return rf"\mathrm{{{text}}}"


def value_text(
    value: float, unit: pint.Unit, *, exact: bool, sig: int, binary: bool = False
) -> Rendered:
    """A number with its unit: exact for inputs, ``sig`` figures for computed values.

    FLOP counts stay in FLOP with a power of ten; other computed values use a readable prefix.
    """
    if not exact and _has_dimension(unit) and unit.dimensionality != _COMPUTE:
        q = readable(Q_(value, unit), binary)
        value, unit = float(q.magnitude), q.units
    text = text_number(value, sig, exact=exact)
    latex = latex_number(value, sig, exact=exact)
    if exact and text.lstrip("-").isdigit() and abs(value) >= 1e5:
        # a whole number of six digits or more reads in groups: 70,553,706,496 parameters
        text = grouped(value)
        latex = text.replace(",", "{,}")
    if _has_dimension(unit):
        text += f" {_unit_text(unit)}"
        latex += rf"\,{_latex_unit(unit)}"
    return Rendered(latex, text)


def render_with_values(
    formula: Formula, expr: sympy.Basic, shown: dict[sympy.Symbol, Rendered]
) -> Rendered:
    """``expr`` printed with some symbols shown as values (``70e9 · (2 B/param)``), keeping the
    reading order of the symbols they stand for."""
    latex_names, text_names = display_names(formula)
    order_of: dict[sympy.Symbol, sympy.Symbol] = {}
    replacement: dict[sympy.Symbol, sympy.Symbol] = {}
    # placeholders named in reading order, so that SymPy's own ordering of arguments (of
    # min and max, say) follows the symbols they stand for, deterministically
    ranked = sorted(shown.items(), key=lambda item: (formula.order_key(item[0]), item[0].name))
    for i, (sym, rendered) in enumerate(ranked):
        placeholder = sympy.Symbol(f"_value{i:04d}", positive=True)
        replacement[sym] = placeholder
        order_of[placeholder] = sym
        latex_names[placeholder] = rendered.latex
        text_names[placeholder] = rendered.text

    def order(s: sympy.Symbol) -> tuple[int, int]:
        return formula.order_key(order_of.get(s, s))

    body = expr.xreplace(replacement)
    return Rendered(to_latex(body, latex_names, order), to_text(body, text_names, order))


def display_names(formula: Formula) -> tuple[dict, dict]:
    """LaTeX and text names of every symbol of the chain, the formula's own result included
    (a rearranged formula has it on the right-hand side)."""
    latex_names, text_names = formula.latex_names(), formula.text_names()
    latex_names[formula.symbol] = formula.entry.latex
    text_names[formula.symbol] = formula.entry.text
    return latex_names, text_names


def render_expression(formula: Formula, expr: sympy.Basic) -> Rendered:
    """``expr`` in the conventional symbols of ``formula``'s chain."""
    latex_names, text_names = display_names(formula)
    order = formula.order_key
    return Rendered(to_latex(expr, latex_names, order), to_text(expr, text_names, order))


def render_result(
    formula: Formula, value: sympy.Expr, unit: pint.Unit, sig: int, binary: bool = False
) -> Rendered:
    """A computed value with its unit, or (partial) an expression with the unit after it."""
    if value.is_Number:
        return value_text(float(value), unit, exact=False, sig=sig, binary=binary)
    # a partial result keeps its symbols; its large numbers read at the derivation's figures
    # (1.4e15 + 2.62e14 c, not 1400000000000000 + 262144000000000 c)
    large = {n: sympy.Float(n, sig) for n in value.atoms(sympy.Number) if abs(n) >= 1e5}
    latex, text = astuple(render_expression(formula, value.xreplace(large)))
    if _has_dimension(unit):
        latex = rf"\left({latex}\right)\,{_latex_unit(unit)}"
        text = f"({text}) {_unit_text(unit)}"
    return Rendered(latex, text)


@dataclass
class Step:
    """One formula of the chain: its definition and, once evaluated, its numbers."""

    name: str
    meaning: str
    symbol: Rendered
    unit: pint.Unit
    depth: int
    definition: Rendered
    at: list[Rendered] = field(default_factory=list)
    substituted: Rendered | None = None
    value: sympy.Expr | None = None
    rationale: list[str] = field(default_factory=list)
    given: bool = False

    @property
    def is_number(self) -> bool:
        return self.value is not None and self.value.is_Number

    @property
    def quantity(self) -> pint.Quantity | None:
        return Q_(float(self.value), self.unit) if self.is_number else None


@dataclass(frozen=True)
class InputValue:
    name: str
    symbol: Rendered
    value: float
    unit: pint.Unit
    meaning: str
    named: str | None = None
    given_part: bool = False
    source: str = ""  # where the value came from (a Scenario's provenance), if known


def _as_sympy(value: float) -> sympy.Expr:
    """Integers stay integers (``327680 · S``), other values become floats."""
    if float(value).is_integer() and abs(value) < 2**53:
        return sympy.Integer(int(value))
    return sympy.Float(value, 15)


def _input_text(item: InputValue, sig: int) -> Rendered:
    """A given value: every digit of an input; a given part at up to six figures."""
    if item.given_part:
        return value_text(item.value, item.unit, exact=False, sig=max(sig, 6))
    return value_text(item.value, item.unit, exact=True, sig=sig)


# --------------------------------------------------------------------------- documents
def aligned(sections: Sequence[Sequence[tuple[str, str]]]) -> str:
    """One LaTeX ``aligned`` block (without ``$$``): each row ``left &= right``, rows joined
    by line breaks, sections (empty ones left out) by a wider break.  Derivations and
    solutions both render their rows here."""
    blocks = [" \\\\\n".join(f"{left} &= {right}" for left, right in rows) for rows in sections]
    return "\\begin{aligned}\n" + " \\\\[6pt]\n".join(b for b in blocks if b) + "\n\\end{aligned}"


def markdown_document(head: str, latex: str, after: Sequence[str] = ()) -> str:
    """A worked document for a notebook: a Markdown ``head`` line, the display math, then the
    Markdown lines ``after`` it (notes, rationale, provenance)."""
    return "\n".join([head, "", "$$", latex, "$$", *after])


def html_document(head: str, latex: str, after: Sequence[str] = ()) -> str:
    """The same document as HTML (MathJax reads the ``$$`` block): ``head`` and the lines
    ``after`` are plain text, escaped here."""
    import html

    notes = "".join(f"<p>{html.escape(line)}</p>" for line in after if line.strip())
    return f"<p><b>{html.escape(head)}</b></p>\n$$\n{latex}\n$$\n{notes}"
