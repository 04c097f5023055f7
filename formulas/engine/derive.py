"""Derivations: a formula shows its work, step by step, like a worked example.

``formula.derive(**values)`` returns a :class:`Derivation` that reads top-down:

1. **Definition**: the formula in conventional symbols, then each part it is built from, in
   turn (``M_total = M_w + M_KV + M_ws``, then ``M_w = N · b_w``, ...), with the substitutions
   a part is used at (``n_tok = S_p``);
2. **Values**: the inputs given, with units and meanings;
3. **Substituted**: each part with its numbers, dependencies first, so every number is known
   when it is used, ending with the formula itself;
4. **Result**: in a readable unit (GB, or GiB when ``binary=True``; TFLOP/s, GB/s, ms or s)
   at ``sig`` significant figures.

With ``explain=True`` the rationale lines of each formula's docstring (its Notes) follow its
definition.  With only some values given, the derivation simplifies the formula in the
remaining symbols instead of failing.

FLOP counts are written in powers of ten (``1.4e15 FLOP``), as the field writes them; bytes,
rates and times in prefixed units (``140 GB``, ``1.66 TFLOP/s``, ``8.3 s``).

Renderings of one Derivation: ``str()`` (aligned text for terminals), ``_repr_latex_`` and
``_repr_markdown_`` (notebooks), ``to_dict()`` (programs, JSON-serialisable).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pint
import sympy

from llmphys.engine.binding import finite
from llmphys.engine.budget import huge_exponent
from llmphys.engine.docs import rationale
from llmphys.engine.formatting import format_quantity
from llmphys.engine.printing import to_latex, to_text
from llmphys.engine.render import (
    InputValue,
    Rendered,
    Step,
    _as_sympy,
    _input_text,
    _unit_text,
    aligned,
    display_names,
    html_document,
    markdown_document,
    render_expression,
    render_result,
    render_with_values,
    value_text,
)
from llmphys.units import Q_, as_numbers

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.formula import Formula

__all__ = [
    "Derivation",
    "Rendered",
    "Step",
    "derive",
    "display_names",
    "render_expression",
    "render_result",
    "render_with_values",
    "value_text",
]


class Derivation:
    """A worked derivation of one formula for some values (see the module docstring)."""

    def __init__(
        self,
        formula: Formula,
        steps: list[Step],
        order: list[Step],
        inputs: list[InputValue],
        *,
        explain: bool,
        binary: bool,
        sig: int,
    ) -> None:
        self.formula = formula
        self.steps = steps  # top-down: the definition chain
        self.order = order  # dependencies first: the substitution order
        self.inputs = inputs
        self.explain = explain
        self.binary = binary
        self.sig = sig
        self.top = steps[0]

    # ------------------------------------------------------------------------- results
    @property
    def is_partial(self) -> bool:
        """True when some inputs were left free and the result is an expression."""
        return not self.top.is_number

    @property
    def result(self) -> pint.Quantity | sympy.Expr:
        """The value as a quantity in the formula's unit, or the simplified expression in the
        symbols left free (in the formula's unit, free symbols in their glossary units)."""
        if self.is_partial:
            return self.top.value
        return Q_(float(self.top.value), self.top.unit)

    @property
    def free(self) -> list[str]:
        """Names of the inputs left free (empty for a full derivation)."""
        if not self.is_partial:
            return []
        return [s.name for s in self.formula._ordered(self.top.value.free_symbols)]

    def _result_rendered(self) -> Rendered:
        top = self.top
        if self.is_partial:
            return render_result(self.formula, top.value, top.unit, self.sig)
        q = Q_(float(top.value), top.unit)
        return Rendered(
            format_quantity(q, self.sig, self.binary, latex=True),
            format_quantity(q, self.sig, self.binary),
        )

    def _free_note(self) -> Rendered | None:
        if not self.is_partial:
            return None
        gloss = self.formula.registry.glossary
        parts = []
        latex_parts = []
        for name in self.free:
            entry = gloss[name]
            unit = entry.unit_text
            parts.append(f"{entry.text} [{unit}]" if unit else entry.text)
            latex_parts.append(entry.latex + (rf"\;[\mathrm{{{unit}}}]" if unit else ""))
        return Rendered(", ".join(latex_parts), ", ".join(parts))

    # ------------------------------------------------------------------------- text
    def __str__(self) -> str:
        f = self.formula
        width = max(len(s.symbol.text) + 2 * s.depth for s in self.steps if not s.given)
        lines = [f"{self.top.symbol.text}: {f.meaning}", "", "Definition"]
        for step in self.steps:
            if step.given:
                continue
            name = (" " * (2 * step.depth) + step.symbol.text).ljust(width)
            at = f"    ({', '.join(r.text for r in step.at)})" if step.at else ""
            lines.append(f"  {name} = {step.definition.text}{at}")
            if self.explain:
                for line in step.rationale:
                    lines.append(f"  {' ' * (2 * step.depth)}    - {line}")
        if self.inputs:
            lines += ["", "Values"]
            vwidth = max(len(i.symbol.text) for i in self.inputs)
            for item in self.inputs:
                shown = _input_text(item, self.sig)
                named = f" ({item.named})" if item.named else ""
                text = f"{item.symbol.text.ljust(vwidth)} = {shown.text}{named}"
                source = f"  [{item.source}]" if item.source else ""
                lines.append(f"  {text.ljust(vwidth + 24)}  {item.meaning}{source}")
        substituted = [s for s in self.order if s.substituted is not None]
        if substituted:
            lines += ["", "Substituted"]
            swidth = max(len(s.symbol.text) for s in substituted)
            for step in substituted:
                lines.append(f"  {step.symbol.text.ljust(swidth)} = {step.substituted.text}")
        lines += ["", "Result", f"  {self.top.symbol.text} = {self._result_rendered().text}"]
        note = self._free_note()
        if note is not None:
            lines.append(f"  (free: {note.text})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Derivation {self.formula.name}: {self._result_rendered().text}>"

    # ------------------------------------------------------------------------- LaTeX
    def latex(self) -> str:
        """The derivation as one LaTeX ``aligned`` block (without ``$$``).

        Returns
        -------
        str
            The definitions, the values, the substitutions and the result, one per line.
        """
        definition = []
        for step in self.steps:
            if step.given:
                continue
            at = ""
            if step.at:
                at = r"\quad\text{with } " + r",\; ".join(r.latex for r in step.at)
            definition.append((step.symbol.latex, f"{step.definition.latex}{at}"))
        values = [(i.symbol.latex, _input_text(i, self.sig).latex) for i in self.inputs]
        subs = [(s.symbol.latex, s.substituted.latex) for s in self.order if s.substituted]
        result = [(self.top.symbol.latex, self._result_rendered().latex)]
        return aligned([definition, values, subs, result])

    def _repr_latex_(self) -> str:
        return f"$$\n{self.latex()}\n$$"

    def _repr_markdown_(self) -> str:
        head = f"**{self.formula.name}** (${self.top.symbol.latex}$): {self.formula.meaning}"
        return markdown_document(head, self.latex(), self._notes())

    def _repr_html_(self) -> str:
        head = f"{self.formula.name}: {self.formula.meaning}"
        return html_document(head, self.latex(), self._notes())

    def _notes(self) -> list[str]:
        """Markdown after the math: rationale (when explained), free symbols, provenance."""
        lines: list[str] = []
        if self.explain:
            for step in self.steps:
                if step.rationale and not step.given:
                    lines += ["", f"${step.symbol.latex}$:"]
                    lines += [f"- {line}" for line in step.rationale]
        note = self._free_note()
        if note is not None:
            lines += ["", f"Free: ${note.latex}$"]
        sourced = [i for i in self.inputs if i.source]
        if sourced:
            lines += ["", "Where the values come from:", ""]
            lines += [f"- ${i.symbol.latex}$ (`{i.name}`): {i.source}" for i in sourced]
        return lines

    # ------------------------------------------------------------------------- dict
    def to_dict(self) -> dict[str, Any]:
        """Plain data with every piece of the derivation.

        Returns
        -------
        dict
            JSON-serialisable: the formula, its steps, values and result.
        """

        def value_of(step: Step) -> float | None:
            return float(step.value) if step.is_number else None

        result = self._result_rendered()
        top_value = value_of(self.top)
        return {
            "formula": self.formula.name,
            "meaning": self.formula.meaning,
            "unit": _unit_text(self.formula.unit),
            "symbol": self.top.symbol.to_dict(),
            "definition": [
                {
                    "name": s.name,
                    "symbol": s.symbol.to_dict(),
                    "depth": s.depth,
                    **s.definition.to_dict(),
                    "at": [r.to_dict() for r in s.at],
                    "rationale": s.rationale if self.explain else [],
                }
                for s in self.steps
                if not s.given
            ],
            "values": [
                {
                    "name": i.name,
                    "symbol": i.symbol.to_dict(),
                    "value": i.value,
                    "unit": _unit_text(i.unit),
                    "meaning": i.meaning,
                    "named": i.named,
                    "given_part": i.given_part,
                    "source": i.source,
                }
                for i in self.inputs
            ],
            "steps": [
                {
                    "name": s.name,
                    "symbol": s.symbol.to_dict(),
                    **(s.substituted.to_dict() if s.substituted else {"latex": "", "text": ""}),
                    "value": value_of(s),
                    "unit": _unit_text(s.unit),
                    "expression": None if s.is_number else str(s.value),
                }
                for s in self.order
                if s.substituted is not None
            ],
            "result": {
                "value": top_value,
                "unit": _unit_text(self.top.unit),
                "readable": result.text,
                "latex": result.latex,
                "expression": str(self.top.value) if self.is_partial else None,
                "free": self.free,
            },
        }


def derive(
    formula: Formula,
    explain: bool = False,
    binary: bool = False,
    sig: int = 3,
    sources: Mapping[str, str] | None = None,
    **values: Any,
) -> Derivation:
    """The worked :class:`Derivation` of ``formula`` for ``values`` (see module docstring).

    Values are those ``formula(**values)`` accepts (quantities, plain numbers in glossary
    units, precision names, or the value of a part instead of its inputs); any input left out
    stays a symbol.  Arrays are refused: a derivation shows single numbers.  ``sources`` says
    where values came from (``{"layers": "model Llama-3.1-70B (config.json)"}``), shown beside
    them.
    """
    binding = formula.bind(values, partial=True).single(
        f"formula '{formula.name}'",
        "derive shows single values",
        "use sweep() or the lambdified function for arrays",
    )
    keep, converted = binding.keep, dict(binding.values)
    gloss = formula.registry.glossary
    env = {gloss.symbol(n): _as_sympy(v) for n, v in converted.items() if n not in keep}
    given = {n: _as_sympy(converted[n]) for n in keep}
    builder = _Builder(formula, given, sig, binary)
    builder.visit(formula, env, depth=0, at=[])
    inputs = [
        InputValue(
            name=name,
            symbol=Rendered(gloss[name].latex, gloss[name].text),
            value=float(converted[name]),
            unit=gloss[name].pint_unit if name not in keep else formula.registry[name].unit,
            meaning=gloss[name].meaning,
            named=values[name] if isinstance(values[name], str) else None,
            given_part=name in keep,
            source=(sources or {}).get(name, ""),
        )
        for name in sorted(converted, key=lambda n: (n not in keep, gloss.order(n)))
    ]
    if explain:
        for step in builder.steps:
            step.rationale = rationale(_registered(formula, step.name))
    made = Derivation(
        formula,
        builder.steps,
        builder.order,
        inputs,
        explain=explain,
        binary=binary,
        sig=sig,
    )
    value = made.top.value
    if not value.free_symbols:  # the refusal a call makes: no inf, NaN, negative or complex
        number = complex(value) if value.is_finite is not False else complex(math.nan)
        finite(formula, number.real if number.imag == 0 else math.nan, converted)
    return made


def _registered(formula: Formula, name: str) -> Formula:
    for f, _ in formula.chain():
        if f.name == name:
            return f
    return formula.registry[name]


class _Builder:
    """Walks the chain once: definitions top-down, values bottom-up."""

    def __init__(
        self, root: Formula, given: dict[str, sympy.Expr], sig: int, binary: bool = False
    ) -> None:
        self.root = root
        self.given = given
        self.sig = sig
        self.binary = binary
        self.steps: list[Step] = []
        self.order: list[Step] = []
        self._seen: dict[tuple, sympy.Expr] = {}
        self._names = root.latex_names(), root.text_names()

    def _rendered(
        self,
        expr: sympy.Basic,
        extra: dict[sympy.Symbol, Rendered] | None = None,
        order_of: dict[sympy.Symbol, sympy.Symbol] | None = None,
    ) -> Rendered:
        latex_names, text_names = dict(self._names[0]), dict(self._names[1])
        for sym, shown in (extra or {}).items():
            latex_names[sym] = shown.latex
            text_names[sym] = shown.text
        mapping = order_of or {}

        def order(s: sympy.Symbol) -> tuple[int, int]:
            return self.root.order_key(mapping.get(s, s))

        return Rendered(to_latex(expr, latex_names, order), to_text(expr, text_names, order))

    def _own_names(self, f: Formula) -> dict[sympy.Symbol, Rendered]:
        """The names of ``f``'s parts as ``f`` uses them, where they differ from the root's."""
        names: dict[sympy.Symbol, Rendered] = {}
        for sym in f.parts:
            latex, text, _ = f.symbol_entry(sym)
            if (latex, text) != self.root.symbol_entry(sym)[:2]:
                names[sym] = Rendered(latex, text)
        return names

    def _symbol(self, f: Formula) -> Rendered:
        entry = f.entry
        return Rendered(entry.latex, entry.text)

    def visit(
        self,
        f: Formula,
        env: dict[sympy.Symbol, sympy.Expr],
        depth: int,
        at: list[Rendered],
        symbol: Rendered | None = None,
    ) -> sympy.Expr:
        key = (
            f.name,
            tuple(sorted((s.name, str(v)) for s, v in env.items() if s in f.expanded.free_symbols)),
        )
        if key in self._seen:
            return self._seen[key]
        step = Step(
            name=f.name,
            meaning=f.meaning,
            symbol=symbol or self._symbol(f),
            unit=f.unit,
            depth=depth,
            # f's parts by their own names: a variant built on the part it replaces shows the
            # part it wraps (t_step^eff = t_step^par + t_fixed), not its own name twice
            definition=self._rendered(f.expr, self._own_names(f)),
            at=at,
        )
        self.steps.append(step)
        part_values: dict[sympy.Symbol, sympy.Expr] = {}
        # parts used inside another part's substitutions (S = S_avg) are evaluated first
        referenced = {s for p in f.parts.values() for _, v in p.subs for s in v.free_symbols}
        ordered = sorted(f.parts.items(), key=lambda item: item[0] not in referenced)
        for sym, part in ordered:
            if part.overridable and part.name in self.given:
                value = self.given[part.name]
                part_values[sym] = value
                given_step = Step(
                    name=part.name,
                    meaning=part.formula.meaning,
                    symbol=self._symbol(part.formula),
                    unit=part.formula.unit,
                    depth=depth + 1,
                    definition=Rendered("", ""),
                    value=value,
                    given=True,
                )
                self.steps.append(given_step)
                continue
            child_env = dict(env)
            notes: list[Rendered] = []
            for k, v in part.subs:
                notes.append(self._rendered(sympy.Eq(k, v, evaluate=False)))
                child_env[k] = v.xreplace(part_values).xreplace(env)
            shown = Rendered(*f.symbol_entry(sym)[:2])
            part_values[sym] = self.visit(part.formula, child_env, depth + 1, notes, shown)
        own = f.as_numbers(f.expr)
        leaf_values = {s: env[s] for s in own.free_symbols if s in env}
        if huge_exponent(own, {**part_values, **leaf_values}):
            # 8 ** 70e9 in whole numbers would build a number of 63e9 digits: in floats it
            # overflows, and the result is refused as a call refuses it
            leaf_values = {s: sympy.Float(v) if v.is_Number else v for s, v in leaf_values.items()}
        # values given to a part's inputs (``.at(bytes=b * byte / element)``) carry unit
        # constants of their own
        value = as_numbers(own.xreplace({**part_values, **leaf_values}))
        if not value.is_Number:
            value = sympy.simplify(value)
            if value.is_number:  # no symbol left, but a constant (e, pi): its decimal value
                value = value.evalf()
        step.value = value
        step.substituted = self._substituted(f, part_values, leaf_values, value)
        self.order.append(step)
        self._seen[key] = value
        return value

    def _substituted(
        self, f: Formula, part_values: dict, leaf_values: dict, value: sympy.Expr
    ) -> Rendered:
        gloss = f.registry.glossary
        shown: dict[sympy.Symbol, Rendered] = {}
        for sym, v in {**part_values, **leaf_values}.items():
            if not v.is_Number:
                continue
            if sym in part_values:
                unit = f.parts[sym].formula.unit
                shown[sym] = value_text(
                    float(v), unit, exact=False, sig=self.sig, binary=self.binary
                )
            else:
                entry = gloss[sym.name]
                shown[sym] = value_text(float(v), entry.pint_unit, exact=True, sig=self.sig)
        partial = {s: v for s, v in {**part_values, **leaf_values}.items() if not v.is_Number}
        body = render_with_values(self.root, f.expr.xreplace(partial), shown)
        result = render_result(self.root, value, f.unit, self.sig, self.binary)
        if body.text == result.text:
            return result
        return Rendered(f"{body.latex} = {result.latex}", f"{body.text} = {result.text}")
