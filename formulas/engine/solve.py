"""Inverse questions: solve any formula for any input.

``solve(formula, unknown, target=..., **given)`` answers "what is the largest context that
fits in 80 GB?" or "what is the smallest batch that meets this bandwidth budget?":

* **Symbolic first**: ``sympy.solve`` over positive symbols gives the rearranged formula
  (``S = (M_total - N b_w - f_ws N b_w) / (2 L n_kv d_h B b_kv)``), compiled once per
  (formula, unknown) and reused; a **bracketed numeric root** (Brent's method on the compiled
  formula) when there is no closed form.  The result says which path was used.
* **Direction-aware**: the target is a budget (``bound="at_most"``, the default), a requirement
  (``"at_least"``) or an equality (``"equal"``).  With the formula's monotonicity in the
  unknown (the sign of its derivative) that makes the answer a *largest* or a *smallest*
  value; whole-number unknowns are rounded the safe way (floor for a largest, ceil for a
  smallest) and the rounding is shown and checked.
* **Feasibility**: when no positive value works, :class:`~llmphys.errors.InfeasibleError` says
  why, naming the terms that already exceed the budget.
* **Symbolic answers**: inputs left out stay symbols; the answer is then an expression in them
  (:attr:`Solution.expression`), compiled by :meth:`Solution.lambdify` for frontier plots.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pint
import sympy

from llmphys.engine.derive import Rendered, render_expression, render_with_values, value_text
from llmphys.engine.numbers import format_quantity, text_number
from llmphys.engine.numeric import compile_expression
from llmphys.errors import InfeasibleError, InputError, UnitError, UnknownNameError, did_you_mean
from llmphys.units import Q_, UnitSymbol, describe_dimension

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.formula import Formula

__all__ = ["Bound", "Solution", "elasticities", "solve"]

Bound = Literal["at_most", "at_least", "equal"]
_BOUNDS = ("at_most", "at_least", "equal")
_RELATION = {"at_most": "≤", "at_least": "≥", "equal": "="}
_RELATION_LATEX = {"at_most": r"\le", "at_least": r"\ge", "equal": "="}
_ROOT_RTOL = 1e-9  # a root must give the target back to this relative tolerance


# ----------------------------------------------------------------------------- the answer
@dataclass
class Solution:
    """The answer to an inverse question, with how it was found and its derivation."""

    formula: Formula
    unknown: str
    target: pint.Quantity | None
    bound: Bound
    method: Literal["symbolic", "numeric"]
    rearranged: sympy.Expr | None
    expression: sympy.Expr | None = None
    exact: pint.Quantity | None = None
    value: pint.Quantity | None = None
    direction: Literal["largest", "smallest", "exact"] = "exact"
    monotonic: Literal["increasing", "decreasing"] | None = None
    rounding: Literal["floor", "ceil", "nearest"] | None = None
    check: pint.Quantity | None = None
    free: list[str] = field(default_factory=list)
    given: dict[str, float] = field(default_factory=dict)
    note: str = ""
    keep: frozenset[str] = frozenset()

    # ---------------------------------------------------------------- conveniences
    @property
    def is_symbolic(self) -> bool:
        """True when inputs were left free and the answer is an expression."""
        return bool(self.free)

    @property
    def magnitude(self) -> float:
        """The answer as a plain number in the unknown's glossary unit."""
        if self.value is None:
            raise InputError(
                f"solve {self.formula.name} for {self.unknown}: the answer is symbolic in "
                f"{', '.join(self.free)}; give them or use .expression / .lambdify()"
            )
        return float(self.value.magnitude)

    def lambdify(self) -> Callable[..., Any]:
        """The (unrounded) answer as a numpy function of the free inputs, in
        ``self.free`` order (for frontier plots: largest context as a function of batch)."""
        if self.expression is None:
            raise InputError(
                f"solve {self.formula.name} for {self.unknown}: no closed form to compile "
                f"(found by the {self.method} path)"
            )
        gloss = self.formula.registry.glossary
        args = [gloss.symbol(n) if n in gloss else self.formula.symbol for n in self.free]
        return compile_expression(args, self.expression)

    # ---------------------------------------------------------------- rendering
    def _sym(self, name: str) -> Rendered:
        entry = self.formula.registry.glossary[name]
        return Rendered(entry.latex, entry.text)

    def _question(self) -> Rendered:
        x = self._sym(self.unknown)
        f = self.formula.entry
        word = {"largest": "largest ", "smallest": "smallest ", "exact": ""}[self.direction]
        if self.target is None:
            target = Rendered(f.latex, f.text)
        else:
            target = Rendered(
                format_quantity(self.target, latex=True), format_quantity(self.target)
            )
        rel = _RELATION[self.bound]
        return Rendered(
            rf"\text{{{word}}}{x.latex}\ \text{{with}}\ {f.latex} {_RELATION_LATEX[self.bound]} "
            f"{target.latex}",
            f"{word}{x.text} with {f.text} {rel} {target.text}",
        )

    def _lines(self) -> list[tuple[Rendered, Rendered, str]]:
        """(left, right, note) rows: rearranged, substituted, value, rounding, check."""
        f = self.formula
        x = self._sym(self.unknown)
        rows: list[tuple[Rendered, Rendered, str]] = []
        definition = _render(f, f.expand(self.keep))
        rows.append((Rendered(f.entry.latex, f.entry.text), definition, "definition"))
        if self.rearranged is not None:
            rows.append((x, _render(f, self.rearranged), f"rearranged, {self.method}"))
        else:
            rows.append(
                (
                    x,
                    Rendered(r"\text{root of the definition}", "root of the definition"),
                    "no closed form: bracketed numeric root",
                )
            )
        if self.rearranged is not None and (self.given or self.target is not None):
            shown = {}
            gloss = f.registry.glossary
            for name, value in self.given.items():
                sym = gloss.symbol(name) if name in gloss else None
                if sym is None:
                    continue
                unit = (
                    gloss[name].pint_unit if gloss[name].kind == "input" else f.registry[name].unit
                )
                shown[sym] = value_text(value, unit, exact=gloss[name].kind == "input", sig=6)
            if self.target is not None:
                shown[f.symbol] = value_text(
                    float(self.target.to(f.unit).magnitude), f.unit, exact=False, sig=6
                )
            rows.append((x, render_with_values(f, self.rearranged, shown), "substituted"))
        if self.is_symbolic and self.expression is not None:
            rows.append((x, _render(f, self.expression), f"free: {', '.join(self.free)}"))
            return rows
        if self.exact is not None:
            entry = f.registry.glossary[self.unknown]
            exact = value_text(float(self.exact.magnitude), entry.pint_unit, exact=False, sig=8)
            rows.append((x, exact, "unrounded" if self.rounding else "solution"))
            if self.rounding is not None and self.value is not None:
                shown = value_text(float(self.value.magnitude), entry.pint_unit, exact=True, sig=6)
                why = {
                    "floor": f"rounded down: the largest whole {x.text} that keeps the bound",
                    "ceil": f"rounded up: the smallest whole {x.text} that meets the bound",
                    "nearest": "rounded to the nearest whole number",
                }[self.rounding]
                rows.append((x, shown, why))
        if self.check is not None and self.value is not None:
            entry = f.registry.glossary[self.unknown]
            at = value_text(
                float(self.value.magnitude), entry.pint_unit, exact=entry.integer, sig=6
            )
            got = Rendered(
                format_quantity(self.check, sig=6, latex=True), format_quantity(self.check, sig=6)
            )
            rel = _RELATION[self.bound]
            target = self.target
            rows.append(
                (
                    Rendered(
                        f"{f.entry.latex}({x.latex} = {at.latex})",
                        f"{f.entry.text}({x.text} = {at.text})",
                    ),
                    got,
                    f"check: {rel} {format_quantity(target, sig=6)}" if target is not None else "",
                )
            )
        return rows

    def __str__(self) -> str:
        head = f"solve {self.formula.name} for {self.unknown}: {self._question().text}"
        rows = self._lines()
        width = max(len(left.text) for left, _, _ in rows)
        body = [
            f"  {left.text.ljust(width)} = {right.text}" + (f"    ({note})" if note else "")
            for left, right, note in rows
        ]
        lines = [head, *body]
        answer = self._answer_text()
        if answer:
            lines.append(f"answer: {answer}")
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def _answer_text(self) -> str:
        entry = self.formula.registry.glossary[self.unknown]
        if self.value is None:
            return ""
        if entry.integer:  # a count: every digit
            number = text_number(float(self.value.magnitude), exact=True)
            unit = f" {entry.unit_text}" if entry.unit_text else ""
            return f"{entry.text} = {number}{unit}"
        return f"{entry.text} = {format_quantity(self.value, sig=4)}"

    def __repr__(self) -> str:
        return f"<Solution {self.formula.name} for {self.unknown}: {self._answer_text() or '...'}>"

    def latex(self) -> str:
        rows = self._lines()
        body = " \\\\\n".join(
            f"{left.latex} &= {right.latex}" + (rf"\quad\text{{({note})}}" if note else "")
            for left, right, note in rows
        )
        return "\\begin{aligned}\n" + body + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        return f"$$\n{self.latex()}\n$$"

    def _repr_markdown_(self) -> str:
        q = self._question()
        lines = [
            f"**solve {self.formula.name} for {self.unknown}**: ${q.latex}$",
            "",
            "$$",
            self.latex(),
            "$$",
        ]
        if self.note:
            lines += ["", self.note]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-serialisable)."""

        def q(x: pint.Quantity | None) -> dict[str, Any] | None:
            if x is None:
                return None
            return {
                "value": float(x.magnitude),
                "unit": f"{x.units:~P}",
                "readable": format_quantity(x, sig=6),
            }

        return {
            "formula": self.formula.name,
            "unknown": self.unknown,
            "question": self._question().text,
            "bound": self.bound,
            "direction": self.direction,
            "monotonic": self.monotonic,
            "method": self.method,
            "target": q(self.target),
            "exact": q(self.exact),
            "value": q(self.value),
            "rounding": self.rounding,
            "check": q(self.check),
            "rearranged": None
            if self.rearranged is None
            else {
                "latex": _render(self.formula, self.rearranged).latex,
                "text": _render(self.formula, self.rearranged).text,
                "sympy": str(self.rearranged),
            },
            "expression": None if self.expression is None else str(self.expression),
            "free": self.free,
            "given": self.given,
            "steps": [
                {
                    "left": left.text,
                    "right": right.text,
                    "latex": f"{left.latex} = {right.latex}",
                    "note": note,
                }
                for left, right, note in self._lines()
            ],
            "answer": self._answer_text(),
            "note": self.note,
        }


def _render(formula: Formula, expr: sympy.Basic) -> Rendered:
    return render_expression(formula, expr)


# ----------------------------------------------------------------------------- machinery
@dataclass
class _Problem:
    """What is cached per (formula, unknown, given parts): the expression, its roots in
    closed form (if any) and compiled functions."""

    expr: sympy.Expr
    x: sympy.Symbol
    roots: list[sympy.Expr] | None
    args: tuple[sympy.Symbol, ...]
    f: Callable[..., Any]
    dfdx: Callable[..., Any] | None
    compiled_roots: list[Callable[..., Any]]


_CACHE: dict[tuple[int, str, frozenset[str]], _Problem] = {}


def _problem(formula: Formula, unknown: str, keep: frozenset[str]) -> _Problem:
    key = (id(formula), unknown, keep)
    cached = _CACHE.get(key)
    if cached is not None and cached.expr is formula.expand(keep):
        return cached
    expr = formula.expand(keep)
    units = {s: sympy.Integer(1) for s in expr.free_symbols if isinstance(s, UnitSymbol)}
    expr = expr.xreplace(units)
    x = formula.registry.glossary.symbol(unknown)
    target = formula.symbol
    args = (*formula._ordered(expr.free_symbols), target)
    roots = _closed_form(expr, x, target)
    f = compile_expression(args[:-1], expr)
    try:
        dfdx: Callable[..., Any] | None = compile_expression(args[:-1], sympy.diff(expr, x))
    except Exception:
        dfdx = None
    root_args = [s for s in args if s != x]
    compiled = [compile_expression(root_args, r) for r in roots] if roots else []
    problem = _Problem(expr, x, roots, args, f, dfdx, compiled)
    _CACHE[key] = problem
    return problem


def _closed_form(
    expr: sympy.Expr, x: sympy.Symbol, target: sympy.Symbol
) -> list[sympy.Expr] | None:
    """Every root of ``expr = target`` in ``x``, or None when SymPy finds no closed form.

    The unknown is solved as a positive real (an integer symbol would make SymPy drop
    non-integer roots); rounding happens afterwards.
    """
    if expr.has(sympy.Min, sympy.Max, sympy.Piecewise, sympy.ceiling, sympy.floor):
        return None
    relaxed = sympy.Dummy(x.name, positive=True, real=True)
    try:
        found = sympy.solve(sympy.Eq(expr.xreplace({x: relaxed}), target), relaxed)
    except (NotImplementedError, TypeError, ValueError):
        return None
    roots = [_tidy(r.xreplace({relaxed: x})) for r in found if not r.has(relaxed)]
    return roots or None


def _tidy(root: sympy.Expr) -> sympy.Expr:
    """A rearranged formula as a person writes it: a fraction without a leading minus over a
    negated denominator (``N b R / (BW - ...)``, not ``-N b R / (... - BW)``)."""
    numerator, denominator = sympy.fraction(sympy.together(root))
    if not (numerator.could_extract_minus_sign() and isinstance(denominator, sympy.Add)):
        return root
    return sympy.Mul(-numerator, sympy.Pow(sympy.expand(-denominator), -1), evaluate=False)


def _coerce_target(formula: Formula, target: Any) -> float:
    where = f"solve {formula.name}"
    if isinstance(target, pint.Quantity):
        try:
            value = float(target.to(formula.unit).magnitude)
        except pint.DimensionalityError:
            got = f"{target.units:~P}" or "dimensionless"
            raise UnitError(
                f"{where}: the target must be in units convertible to '{formula.unit:~P}' "
                f"({describe_dimension(formula.unit)}); got '{got}' "
                f"({describe_dimension(target.units)})",
                target.units,
                formula.unit,
            ) from None
    elif isinstance(target, (int, float, np.floating, np.integer)) and not isinstance(target, bool):
        value = float(target)
    else:
        raise InputError(
            f"{where}: the target must be a quantity or a number in {formula.unit:~P}; got "
            f"{type(target).__name__} {target!r}"
        )
    if math.isnan(value) or math.isinf(value):
        raise InputError(f"{where}: the target is {value}; give a finite value")
    if value <= 0:
        raise InputError(
            f"{where}: the target must be positive; got {text_number(value)} {formula.unit:~P}"
        )
    return value


def solve(
    formula: Formula | str,
    unknown: str,
    target: Any = None,
    *,
    bound: Bound = "at_most",
    registry: Any = None,
    **given: Any,
) -> Solution:
    """Solve ``formula`` for ``unknown`` so that its value meets ``target``.

    ``bound`` says what the target is: a budget (``"at_most"``, default: the formula's value
    must not exceed it), a requirement (``"at_least"``) or an equality (``"equal"``).
    ``given`` are the other inputs (as for ``formula(**given)``); inputs left out stay symbols
    and the answer is an expression in them.  With ``target=None`` the target stays a symbol
    too.

    >>> import llmphys as F
    >>> s = F.solve("total_vram", "seq_len", target=F.Q_(80, "GB"), params=70e9,
    ...             bytes_per_param="int4", layers=80, n_kv_heads=64, head_dim=128,
    ...             kv_bytes="bf16", batch=1, workspace_fraction=0.12)
    >>> print(s.value, s.direction, s.rounding)
    15563 tok largest floor
    """
    from llmphys.engine.formula import Formula

    if isinstance(formula, str):
        if registry is None:
            from llmphys.engine.formula import registry as builtin

            registry = builtin
        formula = registry[formula]
    if not isinstance(formula, Formula):
        raise InputError(f"solve: expected a formula or its name, got {type(formula).__name__}")
    where = f"solve {formula.name}"
    if bound not in _BOUNDS:
        raise InputError(f"{where}: bound must be one of {', '.join(_BOUNDS)}; got {bound!r}")
    if unknown in given:
        raise InputError(f"{where}: {unknown!r} is the unknown; do not also give its value")
    keep, converted = formula.prepare(given, partial=True)
    for name, value in converted.items():
        if isinstance(value, np.ndarray):
            raise InputError(
                f"{where}: solve takes single values; argument '{name}' is an array (leave it "
                "out for a symbolic answer, then use .lambdify())"
            )
    if unknown in formula.overridable_parts():
        # solving for a part (TPOT inside the e2e latency): keep it as a symbol
        keep = keep | {unknown}
        present = {s.name for s in formula.expand(keep).free_symbols}
        unused = [n for n in converted if n not in present]
        if unused:
            raise InputError(
                f"{where}: {', '.join(repr(n) for n in unused)} "
                f"{'is' if len(unused) == 1 else 'are'} not used when solving for the part "
                f"{unknown!r}; drop {'it' if len(unused) == 1 else 'them'}"
            )
    expr_symbols = formula.expand(keep).free_symbols
    candidates = [s.name for s in formula._ordered(expr_symbols) if s.name not in converted]
    if unknown not in candidates:
        known = formula.input_names
        if unknown in known:
            raise InputError(
                f"{where}: {unknown!r} is not used when {', '.join(sorted(keep))} "
                f"{'is' if len(keep) == 1 else 'are'} given"
            )
        raise UnknownNameError(
            f"{where}: {unknown!r} is not an input of {formula.name}"
            f"{did_you_mean(unknown, known)} (inputs: {', '.join(known)})",
            unknown,
        )
    t_value = None if target is None else _coerce_target(formula, target)
    problem = _problem(formula, unknown, keep)
    gloss = formula.registry.glossary
    free = [n for n in candidates if n != unknown]
    if target is None:
        free.append(formula.name)
    if free:
        return _symbolic_answer(formula, unknown, problem, converted, t_value, bound, free, keep)
    values = {s.name: converted[s.name] for s in problem.args[:-1] if s != problem.x}
    x_star, method = _root(formula, problem, values, t_value, unknown)
    rearranged = _chosen_root(problem, values, t_value, x_star) if x_star is not None else None
    if method == "numeric" and x_star is not None:
        # a max or min that the given values settle (max(n_kv/tp, 1) at given tp) may leave
        # a closed form in the unknown: show it, rearranged with the numbers in
        reduced = _reduced_root(problem, values, t_value, x_star)
        if reduced is not None:
            rearranged, method = reduced, "symbolic"
    entry = gloss[unknown]
    target_q = Q_(t_value, formula.unit)
    if x_star is None:
        raise InfeasibleError(
            _infeasible_message(formula, unknown, problem, converted, keep, t_value, bound)
        )
    slope = _slope(problem, values, x_star)
    if slope == 0 or not math.isfinite(slope):
        raise InfeasibleError(
            f"{where}: {formula.name} does not change with {unknown} here (its derivative is "
            f"{slope}); no unique {unknown} meets the target"
        )
    monotonic = "increasing" if slope > 0 else "decreasing"
    direction = _direction(monotonic, bound)
    if entry.domain in ("fraction", "unit_interval") and x_star > 1 + 1e-12:
        interval = "(0, 1]" if entry.domain == "fraction" else "[0, 1]"
        raise InfeasibleError(
            f"{where}: it would need {unknown} = {text_number(x_star, 4)}, but {unknown} is a "
            f"fraction in {interval} ({entry.meaning})"
        )
    answer, rounding = _round(entry, x_star, direction)
    if entry.integer and answer < 1 and entry.domain != "nonnegative":
        smallest = float(problem.f(*_args(problem, values, 1.0)))
        raise InfeasibleError(
            f"{where}: even {unknown} = 1 gives {formula.name} = "
            f"{format_quantity(Q_(smallest, formula.unit), sig=4)}, "
            f"{'above' if bound == 'at_most' else 'below'} {format_quantity(target_q, sig=4)}: "
            f"no whole {unknown} meets the target"
        )
    check_value = float(problem.f(*_args(problem, values, answer)))
    check = Q_(check_value, formula.unit)
    _assert_bound(formula, unknown, answer, check_value, t_value, bound, rounding)
    return Solution(
        formula=formula,
        unknown=unknown,
        target=target_q,
        bound=bound,
        method=method,
        rearranged=rearranged,
        exact=Q_(x_star, entry.pint_unit),
        value=Q_(int(answer) if entry.integer else answer, entry.pint_unit),
        direction=direction,
        monotonic=monotonic,
        rounding=rounding,
        check=check,
        given={k: float(v) for k, v in converted.items()},
        keep=keep,
    )


def _args(problem: _Problem, values: dict[str, float], x: float) -> list[float]:
    return [x if s == problem.x else values[s.name] for s in problem.args[:-1]]


def _slope(problem: _Problem, values: dict[str, float], x: float) -> float:
    """df/dx at ``x``: the compiled derivative, or a central difference where SymPy's
    derivative cannot be compiled (a step function such as ``ceiling``)."""
    if problem.dfdx is not None:
        with np.errstate(all="ignore"):
            return float(problem.dfdx(*_args(problem, values, x)))
    h = max(abs(x), 1.0) * 1e-6
    hi = float(problem.f(*_args(problem, values, x + h)))
    lo = float(problem.f(*_args(problem, values, max(x - h, x / 2))))
    return (hi - lo) / (x + h - max(x - h, x / 2))


def _root_args(problem: _Problem, values: dict[str, float], target: float) -> list[float]:
    """Arguments of a compiled root: every input but the unknown, then the target."""
    return [*(values[s.name] for s in problem.args[:-1] if s != problem.x), target]


def _root(
    formula: Formula, problem: _Problem, values: dict[str, float], target: float, unknown: str
) -> tuple[float | None, Literal["symbolic", "numeric"]]:
    """A positive root: from the closed form if there is one, else bracketed numerically."""
    if not problem.roots:
        return _bracketed(problem, values, target), "numeric"
    found = []
    args = _root_args(problem, values, target)
    for fn in problem.compiled_roots:
        with np.errstate(all="ignore"):
            value = fn(*args)
        if not np.isfinite(value) or value <= 0:
            continue
        got = float(problem.f(*_args(problem, values, float(value))))
        if abs(got - target) <= _ROOT_RTOL * abs(target):
            found.append(float(value))
    return (min(found) if found else None), "symbolic"


def _bracketed(problem: _Problem, values: dict[str, float], target: float) -> float | None:
    from scipy.optimize import brentq

    def g(x: float) -> float:
        with np.errstate(all="ignore"):
            return float(problem.f(*_args(problem, values, x))) - target

    lo = 1e-12
    g_lo = g(lo)
    hi = 1.0
    g_hi = g(hi)
    while math.isfinite(g_hi) and (g_lo > 0) == (g_hi > 0) and hi < 1e30:
        hi *= 4
        g_hi = g(hi)
    if not (math.isfinite(g_lo) and math.isfinite(g_hi)) or (g_lo > 0) == (g_hi > 0):
        return None
    # tighten the lower end too, so the root is bracketed closely
    lo_try = hi / 4
    if lo_try > lo and (g(lo_try) > 0) == (g_lo > 0):
        lo = lo_try
    return float(brentq(g, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500))


def _reduced_root(
    problem: _Problem, values: dict[str, float], target: float, x_star: float
) -> sympy.Expr | None:
    """The unknown in closed form once the given values are in (numbers and the target
    symbol only), when that removes every max, min and step; None otherwise."""
    numbers = {s: sympy.Float(values[s.name]) for s in problem.args[:-1] if s != problem.x}
    reduced = problem.expr.xreplace(numbers)
    if reduced.has(sympy.Min, sympy.Max, sympy.Piecewise, sympy.ceiling, sympy.floor):
        return None
    roots = _closed_form(reduced, problem.x, problem.args[-1]) or []
    for root in roots:
        try:
            value = complex(root.xreplace({problem.args[-1]: sympy.Float(target)}).evalf())
        except (TypeError, ValueError):
            continue
        if abs(value.imag) <= 1e-12 * abs(value) and math.isclose(value.real, x_star, rel_tol=1e-9):
            return root
    return None


def _chosen_root(
    problem: _Problem, values: dict[str, float], target: float, x_star: float
) -> sympy.Expr | None:
    if not problem.roots:
        return None
    args = _root_args(problem, values, target)
    for root, fn in zip(problem.roots, problem.compiled_roots, strict=True):
        with np.errstate(all="ignore"):
            value = fn(*args)
        if np.isfinite(value) and math.isclose(float(value), x_star, rel_tol=1e-9):
            return root
    return problem.roots[0]


def _direction(monotonic: str, bound: Bound) -> Literal["largest", "smallest", "exact"]:
    if bound == "equal":
        return "exact"
    increasing = monotonic == "increasing"
    return "largest" if increasing == (bound == "at_most") else "smallest"


def _round(entry: Any, x: float, direction: str) -> tuple[float, Any]:
    if not entry.integer:
        return x, None
    nearest = round(x)
    if abs(x - nearest) <= 1e-9 * max(1.0, abs(x)):
        return float(nearest), None  # already whole: nothing to round
    if direction == "largest":
        return float(math.floor(x)), "floor"
    if direction == "smallest":
        return float(math.ceil(x)), "ceil"
    return float(nearest), "nearest"


def _assert_bound(
    formula: Formula,
    unknown: str,
    answer: float,
    value: float,
    target: float,
    bound: Bound,
    rounding: Any,
) -> None:
    slack = 1e-9 * abs(target)
    ok = (
        (bound == "at_most" and value <= target + slack)
        or (bound == "at_least" and value >= target - slack)
        or bound == "equal"
    )
    if not ok:  # pragma: no cover - guards the rounding logic itself
        raise AssertionError(
            f"solve {formula.name} for {unknown}: {rounding} rounding to {answer} gives {value}, "
            f"which violates {bound} {target}"
        )


def _symbolic_answer(
    formula: Formula,
    unknown: str,
    problem: _Problem,
    converted: dict[str, Any],
    target: float | None,
    bound: Bound,
    free: list[str],
    keep: frozenset[str],
) -> Solution:
    gloss = formula.registry.glossary
    if not problem.roots:
        raise InfeasibleError(
            f"solve {formula.name} for {unknown}: no closed form, so a symbolic answer in "
            f"{', '.join(free)} is not available; give their values for a numeric answer"
        )
    subs: dict[sympy.Symbol, sympy.Expr] = {}
    for name, value in converted.items():
        sym = gloss.symbol(name) if gloss[name].kind == "input" else formula.registry[name].symbol
        subs[sym] = (
            sympy.Float(value) if not float(value).is_integer() else sympy.Integer(int(value))
        )
    if target is not None:
        subs[formula.symbol] = sympy.Float(target)
    # pick the root that is positive at the glossary defaults of the free inputs
    probe = dict(subs)
    for name in free:
        if name == formula.name:
            default = float(
                formula(**{s.name: gloss[s.name].default for s in formula.inputs}).magnitude
            )
            probe[formula.symbol] = sympy.Float(default)
        else:
            probe[gloss.symbol(name)] = sympy.Float(gloss[name].default or 1.0)
    chosen = None
    for root in problem.roots:
        value = root.xreplace(probe).evalf()
        if value.is_real and value > 0:
            chosen = root
            break
    if chosen is None:
        chosen = problem.roots[0]
    expression = sympy.simplify(chosen.xreplace(subs))
    slope_expr = sympy.diff(problem.expr, problem.x)
    monotonic = None
    try:
        at = dict(probe)
        at[problem.x] = chosen.xreplace(probe)
        slope = float(slope_expr.xreplace(at).evalf())
        monotonic = "increasing" if slope > 0 else "decreasing" if slope < 0 else None
    except (TypeError, ValueError):
        monotonic = None
    direction = _direction(monotonic, bound) if monotonic else "exact"
    return Solution(
        formula=formula,
        unknown=unknown,
        target=None if target is None else Q_(target, formula.unit),
        bound=bound,
        method="symbolic",
        rearranged=chosen,
        expression=expression,
        direction=direction,
        monotonic=monotonic,
        free=free,
        given={k: float(v) for k, v in converted.items()},
        note="whole-number rounding applies once the free inputs are given",
        keep=keep,
    )


# ----------------------------------------------------------------------------- infeasible
def _infeasible_message(
    formula: Formula,
    unknown: str,
    problem: _Problem,
    converted: dict[str, Any],
    keep: frozenset[str],
    target: float,
    bound: Bound,
) -> str:
    """Why no positive ``unknown`` works: the parts that do not change with the unknown and
    already exceed the budget, or the limit the formula cannot get past."""
    gloss = formula.registry.glossary
    x = problem.x
    values = {s: converted[s.name] for s in problem.args[:-1] if s != x}
    sub = problem.expr.xreplace({s: sympy.Float(v) for s, v in values.items()})
    where = f"solve {formula.name} for {unknown}"
    target_text = format_quantity(Q_(target, formula.unit), sig=4)
    rel = _RELATION[bound]
    at_zero, at_inf = _limit(sub, x, 0), _limit(sub, x, sympy.oo)
    best, end = (at_zero, "0") if _better(at_zero, at_inf, bound) else (at_inf, "infinity")
    fixed = _fixed_parts(formula, keep, x, converted, bound, 0 if end == "0" else sympy.oo)
    listed = " and ".join(
        f"{name} ({gloss[name].text}) = {format_quantity(q, sig=3)}" for name, q in fixed
    )
    same_unit_total = (
        sum(float(q.to(formula.unit).magnitude) for _, q in fixed)
        if fixed and all(q.dimensionality == formula.unit.dimensionality for _, q in fixed)
        else None
    )
    if bound == "at_most" and same_unit_total is not None and same_unit_total >= target:
        verb = "exceeds" if len(fixed) == 1 else "exceed"
        message = f"{where}: {listed} already {verb} {target_text}"
        if best is not None:
            best_text = format_quantity(Q_(best, formula.unit), sig=4)
            message += f" ({formula.name} is at least {best_text} for any {unknown})"
        message += f": no {unknown} fits"
    else:
        message = f"{where}: no positive {unknown} gives {formula.name} {rel} {target_text}"
        if best is not None:
            best_text = format_quantity(Q_(best, formula.unit), sig=4)
            side = "above" if bound == "at_most" else "below"
            message += (
                f": even as {unknown} goes to {end}, {formula.name} only reaches {best_text}, "
                f"{side} the target"
            )
        if fixed:
            verb = "does" if len(fixed) == 1 else "do"
            message += f"; {listed} {verb} not change with {unknown}"
    lower, raise_ = _advice(formula, fixed, keep, converted, unknown, bound)
    moves = []
    if lower:
        moves.append(f"lower {_either(lower)}")
    if raise_:
        moves.append(f"raise {_either(raise_)}")
    if moves:
        target_move = "raise the budget" if bound == "at_most" else "lower the target"
        joined = "; ".join(moves)
        message += f". {joined[0].upper()}{joined[1:]}{'; ' if len(moves) > 1 else ', '}"
        message += f"or {target_move}"
        if bound == "at_most" and formula.unit.dimensionality == Q_(1, "byte").dimensionality:
            message += " (e.g. more GPUs)"
    return message


def _either(names: list[str]) -> str:
    return ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + names[-1]


def _advice(
    formula: Formula,
    fixed: list[tuple[str, pint.Quantity]],
    keep: frozenset[str],
    converted: dict[str, Any],
    unknown: str,
    bound: Bound,
) -> tuple[list[str], list[str]]:
    """The inputs of the culprit parts, split by which way each must move to shrink them
    (for a budget) or to grow the formula's limit (for a requirement): a parameter count is
    lowered, a parallel degree (a divisor) is raised."""
    parts = formula.overridable_parts()  # this formula's own parts: a model's variants
    gloss = formula.registry.glossary
    lower: list[str] = []
    raise_: list[str] = []
    for name, _ in fixed:
        part = parts.get(name)
        if part is None:
            continue
        if name in keep:  # given directly: that value is what to change (shrink it)
            lower.append(name)
            continue
        inner = part.expand(keep & set(part.overridable_parts()))
        units = {s: sympy.Integer(1) for s in inner.free_symbols if isinstance(s, UnitSymbol)}
        inner = inner.xreplace(units)
        point = {gloss.symbol(n): sympy.Float(v) for n, v in converted.items() if n in gloss}
        for sym in part._ordered(inner.free_symbols):
            if sym.name == unknown or sym.name in lower or sym.name in raise_:
                continue
            try:
                slope = float(sympy.diff(inner, sym).xreplace(point).evalf())
            except (TypeError, ValueError):
                continue
            if slope == 0 or not math.isfinite(slope):
                continue
            # for a budget the part must shrink; for a requirement it holds the formula back,
            # so it must shrink too (the culprits are the parts whose removal helps)
            (lower if slope > 0 else raise_).append(sym.name)
    return lower, raise_


def _better(a: float | None, b: float | None, bound: Bound) -> bool:
    if b is None:
        return True
    if a is None:
        return False
    return a <= b if bound == "at_most" else a >= b


def _limit(expr: sympy.Expr, x: sympy.Symbol, point: Any) -> float | None:
    """The value ``expr`` tends to as ``x`` goes to 0 or infinity, or None if it diverges.

    Evaluated numerically at two points far along (fast even with ``Max`` and ``ceiling``,
    where a symbolic limit can take seconds): if they agree, that is the limit.
    """
    try:
        fn = sympy.lambdify(x, expr, modules="numpy")
    except (TypeError, ValueError, NameError, KeyError):  # zoo and friends have no printer
        return None
    probes = (1e-10, 1e-14) if point == 0 else (1e24, 1e30)  # the second is nearer
    with np.errstate(all="ignore"):
        try:
            a, b = (float(fn(np.float64(p))) for p in probes)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            return None
    if not (math.isfinite(a) and math.isfinite(b)):
        return None
    if abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1e-300):
        return b  # settled
    if abs(b) <= 1e-4 * abs(a):
        return 0.0  # decaying like a power of x: the limit is 0
    return None  # growing without bound


def _fixed_parts(
    formula: Formula,
    keep: frozenset[str],
    x: sympy.Symbol,
    converted: dict[str, Any],
    bound: Bound,
    end: Any,
) -> list[tuple[str, pint.Quantity]]:
    """The parts that do not change with ``x`` and hold the formula back at the best end of
    ``x``'s range: for a budget, those whose removal would lower that limit (the weights and
    the workspace when no context fits); for a requirement, those whose removal would raise
    it (the KV traffic that caps decode's arithmetic intensity).  Top-most parts only."""
    gloss = formula.registry.glossary
    found: list[tuple[str, pint.Quantity]] = []
    skip: set[str] = set()
    for name, part in formula.overridable_parts().items():
        if name in skip or name == x.name:
            continue
        with_part = formula.expand(keep | {name})
        p = gloss.symbol(name)
        if p not in with_part.free_symbols or x in part.expand(keep).free_symbols:
            continue
        value = _part_value(part, converted)
        if value is None:
            continue
        others = {gloss.symbol(n): sympy.Float(v) for n, v in converted.items() if n != name}
        sub = with_part.xreplace(others)
        units = {s: sympy.Integer(1) for s in sub.free_symbols if isinstance(s, UnitSymbol)}
        sub = sub.xreplace(units)
        try:
            kept = _limit(sub.xreplace({p: sympy.Float(float(value.magnitude))}), x, end)
            removed = _limit(sub.xreplace({p: sympy.Integer(0)}), x, end)
        except (ValueError, TypeError):  # the part is a divisor: removing it is meaningless
            continue
        if kept is None:
            continue
        lowers = removed is not None and removed < kept * (1 - 1e-9)
        raises = removed is None or removed > kept * (1 + 1e-9)
        if (bound == "at_most" and lowers) or (bound != "at_most" and raises):
            found.append((name, value))
            skip |= set(part.overridable_parts())
    return found


def _part_value(part: Formula, converted: dict[str, Any]) -> pint.Quantity | None:
    if part.name in converted:
        return Q_(converted[part.name], part.unit)
    names = set(part.input_names) | set(part.overridable_parts())
    try:
        return part(**{k: v for k, v in converted.items() if k in names})
    except (InputError, UnknownNameError):
        return None


# ----------------------------------------------------------------------------- sensitivity
def elasticities(formula: Formula | str, **values: Any) -> dict[str, float]:
    """d ln f / d ln x for every input x at a point: a 1 % change of x changes f by this many
    percent.  Sorted by magnitude, largest first ("which input matters most here").

    >>> import llmphys as F
    >>> e = F.elasticities("kv_cache_bytes", layers=80, n_kv_heads=8, head_dim=128,
    ...                    kv_bytes=2, seq_len=10000, batch=1)
    >>> e["seq_len"]
    1.0
    """
    from llmphys.engine.formula import registry as builtin

    f = builtin[formula] if isinstance(formula, str) else formula
    keep, converted = f.prepare(values)
    expr = f.expand(keep)
    units = {s: sympy.Integer(1) for s in expr.free_symbols if isinstance(s, UnitSymbol)}
    expr = expr.xreplace(units)
    point = {}
    gloss = f.registry.glossary
    for name, value in converted.items():
        if isinstance(value, np.ndarray):
            raise InputError(f"elasticities of {f.name}: argument '{name}' is an array")
        sym = gloss.symbol(name) if gloss[name].kind == "input" else f.registry[name].symbol
        point[sym] = sympy.Float(value, 30)
    f_value = expr.xreplace(point).evalf(30)
    out: dict[str, float] = {}
    for sym in f._ordered(expr.free_symbols):
        derivative = sympy.diff(expr, sym).xreplace(point).evalf(30)
        out[sym.name] = float(derivative * point[sym] / f_value)
    return dict(sorted(out.items(), key=lambda kv: -abs(kv[1])))
