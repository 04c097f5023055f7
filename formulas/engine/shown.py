"""How a formula's symbols are shown: each symbol's LaTeX and text (a part used twice at
different inputs says which instance is which), the reading order, and the expression printed
in conventional symbols.  :class:`~llmphys.Formula` inherits these."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pint
import sympy

from llmphys.engine.docs import shared_sections
from llmphys.units import UnitSymbol, ureg

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.parts import Part
    from llmphys.engine.registry import Registry

__all__ = ["ShownSymbols"]

#: the argument of the printers (to_latex, to_text), described once
_printed = shared_sections(
    {"expr": "expr\n    An expression of this formula's chain (default: the definition)."}
)


class ShownSymbols:
    """The display names of a :class:`~llmphys.Formula`'s symbols (its base class)."""

    expr: sympy.Expr
    parts: dict[sympy.Symbol, Part]
    registry: Registry

    def symbol_entry(self, sym: sympy.Symbol) -> tuple[str, str, pint.Unit]:
        """How any symbol of this formula's chain is shown, and its unit.

        Parameters
        ----------
        sym
            An input, a part's symbol or a unit constant.

        Returns
        -------
        tuple
            ``(latex, text, unit)``: two str and a :class:`pint.Unit`.
        """
        for f, _ in self.chain():
            part = f.parts.get(sym)
            if part is not None:
                entry = part.formula.entry
                twins = [p for p in f.parts.values() if p.formula.name == part.formula.name]
                if len(twins) < 2 or not part.subs:
                    return entry.latex, entry.text, part.formula.unit
                # one formula used twice at different inputs (the global and the local layers'
                # KV cache): say which instance is which
                latex = ", ".join(f"{self._shown(k)[0]}={self._shown(v)[0]}" for k, v in part.subs)
                text = ",".join(f"{self._shown(k)[1]}={self._shown(v)[1]}" for k, v in part.subs)
                return (
                    rf"\left.{entry.latex}\right|_{{{latex}}}",
                    f"{entry.text}[{text}]",
                    part.formula.unit,
                )
        if isinstance(sym, UnitSymbol):
            return rf"\mathrm{{{sym.name}}}", sym.name, ureg.Unit(sym.name)
        entry = self.registry.glossary[sym.name]
        return entry.latex, entry.text, entry.pint_unit

    def _shown(self, value: sympy.Basic) -> tuple[str, str]:
        """``(latex, text)`` of a substitution's side: a symbol's display name, else the value."""
        if isinstance(value, sympy.Symbol) and not isinstance(value, UnitSymbol):
            latex, text, _ = self.symbol_entry(value)
            return latex, text
        return sympy.latex(value), str(value)

    def _display_symbols(self) -> set[sympy.Symbol]:
        found: set[sympy.Symbol] = set()
        for f, subs in self.chain():
            found |= f.expr.free_symbols | set(f.parts)
            for key, value in subs:
                found |= {key} | value.free_symbols
        return found | set(self.inputs)

    def order_key(self, sym: sympy.Symbol) -> tuple[int, int]:
        """Reading order: formula results first, then inputs in glossary order.

        Parameters
        ----------
        sym
            A symbol of this formula's chain.

        Returns
        -------
        tuple of int
            A sort key.
        """
        gloss = self.registry.glossary
        for f, _ in self.chain():
            part = f.parts.get(sym)
            if part is not None:
                return (1, gloss.order(part.name))
        if sym.name in gloss and gloss[sym.name].kind == "output":
            return (1, gloss.order(sym.name))
        return (2, gloss.order(sym.name))

    def latex_names(self) -> dict[sympy.Symbol, str]:
        return {s: self.symbol_entry(s)[0] for s in self._display_symbols()}

    def text_names(self) -> dict[sympy.Symbol, str]:
        return {s: self.symbol_entry(s)[1] for s in self._display_symbols()}

    @_printed
    def to_latex(self, expr: sympy.Basic | None = None) -> str:
        """LaTeX of an expression in conventional symbols.

        {params}

        Returns
        -------
        str
            The LaTeX, without delimiters.
        """
        from llmphys.engine.printing import to_latex

        return to_latex(self.expr if expr is None else expr, self.latex_names(), self.order_key)

    @_printed
    def to_text(self, expr: sympy.Basic | None = None) -> str:
        """Plain text of an expression in conventional symbols.

        {params}

        Returns
        -------
        str
            The text (``L · n_kv · d_h``).
        """
        from llmphys.engine.printing import to_text

        return to_text(self.expr if expr is None else expr, self.text_names(), self.order_key)
