"""Print a formula's expression with its conventional symbols, in LaTeX and in plain text.

Symbols print as the glossary's display symbol (``n_{\\mathrm{kv}}``), never as the python name;
unit constants print upright (``\\mathrm{FLOP}``) and after the symbols.  Factors and terms are
put in a reading order before printing (numbers, then formula results, then inputs in glossary
order, then units), so ``2 L n_kv d_h b_kv`` reads as the field writes it rather than in SymPy's
alphabetical order of python names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping

import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from llmphys.units import UnitSymbol

__all__ = ["arrange", "plain_symbol", "to_latex", "to_python", "to_text"]

_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")

OrderKey = Callable[[sympy.Symbol], tuple[int, int]]

_UPRIGHT = re.compile(r"\\(?:mathrm|text|mathit|operatorname)\{([^{}]*)\}")
_COMMAND = re.compile(r"\\([A-Za-z]+)")


def _letter(match: re.Match[str]) -> str:
    """A LaTeX command as plain text: a Greek letter as itself (``\\eta`` -> η), any other
    command as its name."""
    name = match.group(1)
    case = "CAPITAL" if name[0].isupper() else "SMALL"
    try:
        return unicodedata.lookup(f"GREEK {case} LETTER {name.upper()}")
    except KeyError:
        return name


def plain_symbol(latex: str) -> str:
    r"""A display symbol's plain text, read from its LaTeX: upright words as they are, Greek
    letters as letters, subscripts and superscripts as ``_`` and ``^`` without braces.

    A formula declares its symbol once, in LaTeX; this is its text unless it says otherwise
    (``@formula(text=...)``, where the plain reading differs: ``t_KV,xfer``).

    Parameters
    ----------
    latex
        The symbol's LaTeX, without delimiters.

    Returns
    -------
    str
        The plain text.

    Examples
    --------
    >>> plain_symbol(r"C_{\mathrm{attn}}^{\mathrm{hyb}}"), plain_symbol(r"\eta_{\mathrm{BW}}")
    ('C_attn^hyb', 'η_BW')
    """
    text = _COMMAND.sub(_letter, _UPRIGHT.sub(r"\1", latex))
    return text.replace(r"\,", "").replace("{", "").replace("}", "")


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
        return (-1, 0)  # a bare number leads a sum: 1 - h, not -h + 1
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
    if isinstance(expr, (sympy.Min, sympy.Max)):
        args = sorted((arrange(a, order) for a in expr.args), key=lambda a: _term_key(a, order))
        return expr.func(*args, evaluate=False)
    if expr.args and isinstance(expr, sympy.Function):
        return expr.func(*(arrange(a, order) for a in expr.args), evaluate=False)
    return expr


def _is_unit(e: sympy.Basic) -> bool:
    return isinstance(e, UnitSymbol) or (
        isinstance(e, sympy.Pow) and isinstance(e.base, UnitSymbol)
    )


def _split_units(expr: sympy.Mul) -> tuple[list[sympy.Basic], list[sympy.Basic]]:
    units = [a for a in expr.args if _is_unit(a)]
    rest = [a for a in expr.args if not _is_unit(a)]
    return rest, units


class _Latex(LatexPrinter):
    def _print_UnitSymbol(self, expr: UnitSymbol) -> str:
        return rf"\mathrm{{{expr.name}}}"

    def _print_Float(self, expr: sympy.Float) -> str:
        from llmphys.engine.formatting import latex_number

        return latex_number(float(expr))

    def _print_Mul(self, expr: sympy.Mul) -> str:
        rest, units = _split_units(expr)
        if not units or not rest:
            return super()._print_Mul(expr)
        body = self._print(rest[0] if len(rest) == 1 else sympy.Mul(*rest, evaluate=False))
        if isinstance(rest[0] if len(rest) == 1 else None, sympy.Add):
            body = rf"\left({body}\right)"
        unit = self._print(units[0] if len(units) == 1 else sympy.Mul(*units, evaluate=False))
        return rf"{body}\,{unit}"

    def _print_Pow(self, expr: sympy.Pow) -> str:
        base = expr.base
        if isinstance(base, sympy.Symbol) and not isinstance(base, UnitSymbol):
            name = self._settings["symbol_names"].get(base, "")
            if " " in name or "\\," in name:
                return rf"\left({name}\right)^{{{self._print(expr.exp)}}}"
        return super()._print_Pow(expr)


class _Text(StrPrinter):
    def __init__(self, names: Mapping[sympy.Symbol, str]) -> None:
        super().__init__({"order": "none"})
        self._names = names

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        return self._names.get(expr, expr.name)

    def _print_UnitSymbol(self, expr: UnitSymbol) -> str:
        return expr.name

    def _print_Min(self, expr: sympy.Min) -> str:
        return f"min({', '.join(self._print(a) for a in expr.args)})"

    def _print_Max(self, expr: sympy.Max) -> str:
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_Equality(self, expr: sympy.Eq) -> str:
        return f"{self._print(expr.lhs)} = {self._print(expr.rhs)}"

    def parenthesize(self, item: sympy.Basic, level: int, strict: bool = False) -> str:
        # a substituted value with a unit ("140 GB") is one factor: keep it together
        if isinstance(item, sympy.Symbol) and not isinstance(item, UnitSymbol):
            name = self._names.get(item, item.name)
            if " " in name:
                return f"({name})"
        return super().parenthesize(item, level, strict)

    def _print_Float(self, expr: sympy.Float) -> str:
        from llmphys.engine.formatting import text_number

        return text_number(float(expr))

    def _print_Mul(self, expr: sympy.Mul) -> str:
        rest, units = _split_units(expr)
        if units and rest:
            single = rest[0] if len(rest) == 1 else None
            body = self._print(single if single is not None else sympy.Mul(*rest, evaluate=False))
            if isinstance(single, sympy.Add) or "/" in body:
                body = f"({body})"
            unit = self._print(units[0] if len(units) == 1 else sympy.Mul(*units, evaluate=False))
            return f"{body} {unit}"
        return super()._print_Mul(expr).replace("**", "^").replace("*", " · ")

    def _print_Pow(self, expr: sympy.Pow, rational: bool = False) -> str:
        exp = expr.exp
        if exp.is_Integer and 1 < int(exp) < 10:
            base = self.parenthesize(expr.base, 60)
            if isinstance(expr.base, sympy.Symbol) and " " in base:
                base = f"({base})"
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
