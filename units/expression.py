"""Check the units of a SymPy expression with pint.

Each symbol carries a pint unit (looked up by a function the caller gives); the walk below
multiplies, divides and raises those units as the expression does, and refuses

* a sum (or ``Min``/``Max``/``Piecewise``) whose terms differ in dimension: bytes plus FLOPs;
* a sum whose terms share a dimension but not a scale: GB plus GiB, s plus ms.  Formulas are
  evaluated on plain numbers in each symbol's own unit, so such a sum would silently give a
  wrong number;
* a transcendental function (``log``, ``exp``) of a quantity with units.

Unit constants may appear inside an expression as :class:`UnitSymbol` (``2 * FLOP * N * S``
reads "2 FLOP per parameter per token").  They count as their unit in the check and as ``1``
in numbers, which is why every scale must match exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction

import pint
import sympy

from llmphys.errors import UnitError

__all__ = ["UnitSymbol", "as_numbers", "expression_unit", "same_unit", "unit_symbol"]

# relative tolerance when deciding that two units have the same scale
_SCALE_RTOL = 1e-12
# the largest root a quantity with units may be taken to (x**(1/12)); 1e-300 is no root
_MAX_ROOT = 12


class UnitSymbol(sympy.Symbol):
    """A unit written inside a formula (``FLOP`` in ``2 * FLOP * N * S``).

    A distinct class so that printers show it upright and numbers treat it as 1; its name is
    the unit's name in the llmphys registry.
    """

    is_positive = True
    is_real = True


def unit_symbol(name: str) -> UnitSymbol:
    """The unit constant ``name`` (checked against the llmphys registry)."""
    from llmphys.units import ureg

    ureg.Unit(name)  # raises pint's UndefinedUnitError for an unknown unit
    return UnitSymbol(name, positive=True)


def as_numbers(
    expr: sympy.Expr, unit_of: Callable[[sympy.Symbol], pint.Unit] | None = None
) -> sympy.Expr:
    """``expr`` as the numbers it computes on: every unit constant counts as 1.

    That is exact for sums, products and powers (the unit check made every scale match), but
    not for rounding: in ``ceiling(weight_bytes / GB) * GB`` the ratio is a plain number only at
    the scale 1 B/GB = 1e-9.  Given ``unit_of`` (each symbol's unit), each ``ceiling``/``floor``
    of such a scaled ratio is rewritten to round at its written scale, ``ceiling(r x) / r``, so
    70.3e9 parameters in bf16 give 141 GB, not 140.6 GB.
    """
    if unit_of is not None and expr.has(sympy.ceiling, sympy.floor):

        def at_scale(e: sympy.Expr) -> sympy.Expr:
            arg = e.args[0]
            unit = expression_unit(arg, unit_of, "rounding")  # checked when it was defined
            if unit.dimensionality:
                return e
            from llmphys.units import Q_

            ratio = _exact(float(Q_(1.0, unit).to("").magnitude))
            return e if ratio == 1 else type(e)(ratio * arg) / ratio

        expr = expr.replace(lambda e: isinstance(e, (sympy.ceiling, sympy.floor)), at_scale)
    units = {s: sympy.Integer(1) for s in expr.free_symbols if isinstance(s, UnitSymbol)}
    return _replaced(expr, units) if units else expr


def _replaced(expr: sympy.Expr, new: dict[sympy.Symbol, sympy.Expr]) -> sympy.Expr:
    """``expr.xreplace(new)``, except that a Min or Max is rebuilt as it stands.

    Rebuilding a Max compares its arguments pairwise (SymPy factors each difference) to drop
    the ones it can prove smaller: most of the cost of compiling a layout's formulas, and
    nothing to gain here, since the Max was simplified when it was built and taking the unit
    constants out changes no comparison (every argument is in the same unit).
    """

    def node(e: sympy.Basic, args: tuple[sympy.Basic, ...]) -> sympy.Basic:
        if args == e.args:
            return e
        if isinstance(e, (sympy.Min, sympy.Max)):
            return type(e)(*args, evaluate=False)
        return e.func(*args)

    return rebuilt(expr, new, node)


def rebuilt(
    expr: sympy.Basic,
    leaves: Mapping[sympy.Basic, sympy.Basic],
    node: Callable[[sympy.Basic, tuple[sympy.Basic, ...]], sympy.Basic],
) -> sympy.Basic:
    """``expr`` rebuilt bottom up, each distinct subtree once: a subtree found in ``leaves``
    is replaced by its value, every other node with arguments is ``node(e, its rebuilt
    arguments)``.  (``xreplace`` rebuilds through each class's constructor, which for Min and
    Max means simplifying again.)"""
    done: dict[sympy.Basic, sympy.Basic] = {}

    def walk(e: sympy.Basic) -> sympy.Basic:
        if e in leaves:
            return leaves[e]
        if not e.args:
            return e
        found = done.get(e)
        if found is None:
            found = done[e] = node(e, tuple(walk(a) for a in e.args))
        return found

    return walk(expr)


def _exact(factor: float) -> sympy.Rational:
    """A unit ratio as the exact fraction it stands for (1e-9 is 1/10**9, 1/GiB is 2**-30)."""
    for value, invert in ((factor, False), (1.0 / factor, True)):
        whole = round(value)
        if whole >= 1 and abs(value - whole) <= 1e-12 * value:
            return sympy.Rational(1, whole) if invert else sympy.Integer(whole)
    return sympy.Rational(repr(factor))


def same_unit(a: pint.Unit, b: pint.Unit) -> tuple[bool, float | None]:
    """``(True, 1.0)`` if ``a`` and ``b`` are the same unit, else ``(False, factor)``.

    ``factor`` is how many ``b`` make one ``a`` when only the scale differs, and ``None`` when
    the dimensions differ.

    Parameters
    ----------
    a, b
        The units compared.

    Returns
    -------
    tuple
        ``(same, factor)``: a bool, and a float or None.
    """
    found = _SAME.get((a, b))
    if found is None:
        found = _SAME[(a, b)] = _compared(a, b)
    return found


# units compared already: the unit check of the registry compares a few dozen pairs, each
# hundreds of times
_SAME: dict[tuple[pint.Unit, pint.Unit], tuple[bool, float | None]] = {}


def _compared(a: pint.Unit, b: pint.Unit) -> tuple[bool, float | None]:
    if a == b:
        return True, 1.0
    if a.dimensionality != b.dimensionality:
        return False, None
    from llmphys.units import Q_

    factor = float(Q_(1.0, a).to(b).magnitude)
    if abs(factor - 1.0) <= _SCALE_RTOL:
        return True, 1.0
    return False, factor


def _dim(unit: pint.Unit) -> str:
    dim = unit.dimensionality
    return str(dim) if dim else "dimensionless"


def _unit_text(unit: pint.Unit) -> str:
    text = f"{unit:~P}"
    return text if text else "dimensionless"


def _scale_text(a: pint.Unit, b: pint.Unit, factor: float) -> str:
    """``1 GiB = 1.07374 GB`` style: the larger unit expressed in the smaller."""
    if factor >= 1:
        return f"1 {_unit_text(a)} = {factor:.6g} {_unit_text(b)}"
    return f"1 {_unit_text(b)} = {1 / factor:.6g} {_unit_text(a)}"


def expression_unit(
    expr: sympy.Expr,
    unit_of: Callable[[sympy.Symbol], pint.Unit],
    where: str,
    show: Callable[[sympy.Basic], str] = str,
) -> pint.Unit:
    """The pint unit of ``expr``, or :class:`~llmphys.errors.UnitError` naming the bad term.

    Parameters
    ----------
    expr
        The expression.
    unit_of
        Each (non-unit) symbol's unit.
    where
        The prefix of every message (``"formula 'total_vram'"``).
    show
        How a term is printed in a message.

    Returns
    -------
    pint.Unit
        The expression's unit.

    Raises
    ------
    UnitError
        Terms of a sum differ in dimension or scale, a function or a power needs a plain
        number, or an operation is not supported (naming the term).
    """
    from llmphys.units import ureg

    dimensionless = ureg.Unit("")

    def walk(e: sympy.Basic) -> pint.Unit:
        if isinstance(e, UnitSymbol):
            return ureg.Unit(e.name)
        if isinstance(e, sympy.Symbol):
            return unit_of(e)
        if e.is_Number or e in (sympy.pi, sympy.E):
            return dimensionless
        if isinstance(e, sympy.Mul):
            unit = dimensionless
            for arg in e.args:
                unit = unit * walk(arg)
            return unit
        if isinstance(e, sympy.Pow):
            base, exponent = e.args
            base_unit = walk(base)
            if exponent.is_Number:
                if exponent.is_Integer:
                    power: int | float = int(exponent)
                else:
                    frac = Fraction(str(exponent)) if exponent.is_Rational else None
                    power = float(frac) if frac is not None else float(exponent)
                    simple = Fraction(power).limit_denominator(_MAX_ROOT)
                    if base_unit != dimensionless and (
                        abs(power - float(simple)) > 1e-12 * abs(power) or simple == 0
                    ):
                        raise UnitError(
                            f"{where}: in {show(e)}, {show(base)} is {_dim(base_unit)} "
                            f"({_unit_text(base_unit)}), and a quantity in a unit can only be "
                            f"raised to a whole power or a simple root (1/2, 1/3, 3/2), not "
                            f"{show(exponent)}",
                            base_unit,
                            dimensionless,
                            [(show(base), _unit_text(base_unit), _dim(base_unit))],
                        )
                return base_unit**power
            exp_unit = walk(exponent)
            for part, unit in ((exponent, exp_unit), (base, base_unit)):
                ok, _ = same_unit(unit, dimensionless)
                if not ok:
                    raise UnitError(
                        f"{where}: in {show(e)}, {show(part)} is {_dim(unit)} "
                        f"({_unit_text(unit)}): a symbolic power needs a dimensionless base "
                        "and exponent",
                        unit,
                        dimensionless,
                        [(show(part), _unit_text(unit), _dim(unit))],
                    )
            return dimensionless
        if isinstance(e, (sympy.Add, sympy.Min, sympy.Max)):
            return _matching(list(e.args), "added" if isinstance(e, sympy.Add) else "compared")
        if isinstance(e, sympy.Piecewise):
            branches = []
            for value, condition in e.args:
                branches.append(value)
                _condition(condition)
            return _matching(branches, "used as branches of one value")
        if isinstance(e, (sympy.ceiling, sympy.floor, sympy.Abs)):
            return walk(e.args[0])
        if isinstance(e, (sympy.log, sympy.exp)):
            unit = walk(e.args[0])
            ok, _ = same_unit(unit, dimensionless)
            if not ok:
                raise UnitError(
                    f"{where}: {type(e).__name__} of {show(e.args[0])}, which is {_dim(unit)} "
                    f"({_unit_text(unit)}): {type(e).__name__} needs a plain number",
                    unit,
                    dimensionless,
                    [(show(e.args[0]), _unit_text(unit), _dim(unit))],
                )
            return dimensionless
        raise UnitError(
            f"{where}: cannot check the units of {show(e)} ({type(e).__name__} is not supported)",
            "",
            "",
        )

    def _condition(cond: sympy.Basic) -> None:
        if isinstance(cond, sympy.core.relational.Relational):
            _matching([cond.lhs, cond.rhs], "compared")
        elif isinstance(cond, (sympy.And, sympy.Or, sympy.Not)):
            for arg in cond.args:
                _condition(arg)

    def _matching(terms: list[sympy.Basic], verb: str) -> pint.Unit:
        units = [walk(t) for t in terms]
        first_term, first = terms[0], units[0]
        for term, unit in zip(terms[1:], units[1:], strict=True):
            ok, factor = same_unit(unit, first)
            if ok:
                continue
            listed = [
                (show(first_term), _unit_text(first), _dim(first)),
                (show(term), _unit_text(unit), _dim(unit)),
            ]
            if factor is None:
                raise UnitError(
                    f"{where}: term {show(first_term)} is {_dim(first)} ({_unit_text(first)}), "
                    f"term {show(term)} is {_dim(unit)} ({_unit_text(unit)}): "
                    f"they cannot be {verb}",
                    first,
                    unit,
                    listed,
                )
            raise UnitError(
                f"{where}: term {show(first_term)} is in {_unit_text(first)}, term {show(term)} "
                f"is in {_unit_text(unit)}: same dimension {_dim(unit)} but their scales differ "
                f"({_scale_text(unit, first, factor)}); convert one of them before they are "
                f"{verb}",
                first,
                unit,
                listed,
            )
        return first

    return walk(expr)
