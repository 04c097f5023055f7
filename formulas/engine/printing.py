"""Print a formula's expression with its conventional symbols, in LaTeX and in plain text.

Symbols print as the glossary's display symbol (``n_{\\mathrm{kv}}``), never as the python name;
unit constants print upright (``\\mathrm{FLOP}``) and after the symbols.  Factors and terms are
put in a reading order before printing (numbers, then formula results, then inputs in glossary
order, then units), so ``2 L n_kv d_h b_kv`` reads as the field writes it rather than in SymPy's
alphabetical order of python names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from llmphys.units import UnitSymbol

__all__ = ["arrange", "to_latex", "to_python", "to_text"]

_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")

OrderKey = Callable[[sympy.Symbol], tuple[int, int]]


def _factor_key(e: sympy.Basic, order: OrderKey) -> tuple[int, int, str]:
    if e.is_Number:
        return (0, 0, "")
    if isinstance(e, sympy.Pow):
        return _factor_key(e.base, order)
    if isinstance(e, UnitSymbol):
        return (9, 0, e.name)
    if isinstance(e, sympy.Symbol):
        group, rank = order(e)
        return (group, rank, e.name)
    return (8, 0, str(e))


def _term_key(e: sympy.Basic, order: OrderKey) -> tuple[int, int]:
    symbols = [
        s for s in e.free_symbols if isinstance(s, sympy.Symbol) and not isinstance(s, UnitSymbol)
    ]
    if not symbols:
        return (99, 0)
    return min(order(s) for s in symbols)


def arrange(expr: sympy.Basic, order: OrderKey) -> sympy.Basic:
    """``expr`` rebuilt unevaluated, with factors and terms in reading order."""
    if isinstance(expr, sympy.Mul):
        args = [arrange(a, order) for a in expr.args]
        args.sort(key=lambda a: _factor_key(a, order))
        return sympy.Mul(*args, evaluate=False)
    if isinstance(expr, sympy.Add):
        args = [arrange(a, order) for a in expr.args]
        args.sort(key=lambda a: _term_key(a, order))
        return sympy.Add(*args, evaluate=False)
    if isinstance(expr, sympy.Pow):
        return sympy.Pow(arrange(expr.base, order), expr.exp, evaluate=False)
    if expr.args and isinstance(expr, sympy.Function):
        return expr.func(*(arrange(a, order) for a in expr.args), evaluate=False)
    return expr


class _Latex(LatexPrinter):
    def _print_UnitSymbol(self, expr: UnitSymbol) -> str:
        return rf"\mathrm{{{expr.name}}}"

    def _print_Float(self, expr: sympy.Float) -> str:
        from llmphys.engine.numbers import latex_number

        return latex_number(float(expr))


class _Text(StrPrinter):
    def __init__(self, names: Mapping[sympy.Symbol, str]) -> None:
        super().__init__({"order": "none"})
        self._names = names

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        return self._names.get(expr, expr.name)

    def _print_UnitSymbol(self, expr: UnitSymbol) -> str:
        return expr.name

    def _print_Float(self, expr: sympy.Float) -> str:
        from llmphys.engine.numbers import text_number

        return text_number(float(expr))

    def _print_Mul(self, expr: sympy.Mul) -> str:
        return super()._print_Mul(expr).replace("*", " · ")

    def _print_Pow(self, expr: sympy.Pow, rational: bool = False) -> str:
        exp = expr.exp
        if exp.is_Integer and 1 < int(exp) < 10:
            base = self.parenthesize(expr.base, 60)
            return f"{base}{str(int(exp)).translate(_SUPERSCRIPTS)}"
        return super()._print_Pow(expr, rational)


def to_latex(expr: sympy.Basic, names: Mapping[sympy.Symbol, str], order: OrderKey) -> str:
    """LaTeX of ``expr`` with display ``names`` and factors in reading order."""
    printer = _Latex({"order": "none", "symbol_names": dict(names), "mul_symbol": "dot"})
    return printer.doprint(arrange(expr, order))


def to_text(expr: sympy.Basic, names: Mapping[sympy.Symbol, str], order: OrderKey) -> str:
    """Plain text of ``expr`` (``2 · L · n_kv · d_h · b_kv``) for terminals."""
    return _Text(names).doprint(arrange(expr, order))


def to_python(expr: sympy.Basic, order: OrderKey) -> str:
    """``expr`` with python names, in reading order (``2*active_params*tokens*FLOP``), for
    messages that a user maps back to keyword arguments."""
    return StrPrinter({"order": "none"}).doprint(arrange(expr, order))
