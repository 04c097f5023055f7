"""Your own formulas: :func:`define` makes a :class:`~llmphys.Formula` from text or SymPy.

A user formula is a normal formula: its units are checked when it is defined (the same check
as every built-in), and it is called, lambdified, derived and solved like a built-in.  It may
use built-in formulas as parts (``"weight_bytes + kv_cache_bytes"``), glossary symbols,
symbols you declare with ``units=`` and unit constants (``byte``, ``bit``, ``GB``, ``s``).

User formulas go into :data:`user_registry`, a registry layered over the built-in one: it sees
every built-in formula and glossary symbol and adds its own, so defining a formula never
changes ``llmphys.registry`` or ``llmphys.glossary`` unless you ask
(``register_builtin=True``).  Running the same ``define`` twice (a re-run notebook cell) returns
the formula already defined; a *different* definition under a used name is refused.

>>> import llmphys as F
>>> weights_from_bits = F.define(
...     "weights_from_bits",
...     "params * bits_per_param * byte / (8 * bit)",
...     result="byte",
...     units={"bits_per_param": "bit/parameter"},
...     doc="Weight bytes from a precision in bits per parameter.",
... )
>>> print(weights_from_bits(params=70e9, bits_per_param=4.25).to("GB"))
37.1875 GB
>>> "weights_from_bits" in F.registry
False
"""

from __future__ import annotations

from collections.abc import Mapping

import pint
import sympy

from llmphys.check import Analysis, UnitSpec, analyse
from llmphys.engine.formula import Formula, Registry, build
from llmphys.engine.formula import registry as builtin_registry
from llmphys.engine.glossary import Glossary
from llmphys.engine.glossary import glossary as builtin_glossary
from llmphys.engine.parse import parse_unit
from llmphys.errors import FormulaDefinitionError
from llmphys.units import ureg

__all__ = ["define", "user_registry"]

#: formulas made with :func:`define`: sees the built-in formulas and glossary, adds its own
user_registry = Registry(Glossary(parent=builtin_glossary), parent=builtin_registry)


def define(
    name: str,
    text_or_expr: str | sympy.Basic,
    result: str | pint.Unit,
    *,
    units: Mapping[str, UnitSpec] | None = None,
    doc: str = "",
    latex: str | None = None,
    text: str | None = None,
    source: str = "user-defined",
    registry: Registry | None = None,
    register_builtin: bool = False,
) -> Formula:
    """Define (check and register) a formula and return it.

    Parameters
    ----------
    name : str
        The formula's name, after the quantity it returns (``weights_from_bits``).
    text_or_expr : str or sympy expression
        The math: text through the whitelist of :mod:`llmphys.engine.parse`, or SymPy.
        Names resolve as in :func:`llmphys.check_units`.
    result : str or pint.Unit
        Declared unit of the result; the expression must reduce to exactly this unit.
    units : dict, optional
        Your own inputs: ``{"bits_per_param": "bit/parameter"}``, or a mapping with ``unit``,
        ``meaning``, ``domain`` (default ``positive``), ``integer``, ``latex``, ``text``.
        They become glossary entries of the registry the formula goes into.
    doc : str, optional
        Docstring: first line the meaning, then numpydoc sections (``Notes`` is the rationale).
    latex, text : str, optional
        Display symbol of the result (default: the name, upright); given only ``latex``, its
        text is read from it (:func:`~llmphys.engine.printing.plain_symbol`).
    source : str, optional
        Where the formula comes from (shown in its reference entry and derivations).
    registry : Registry, optional
        Where to register; default :data:`user_registry`.
    register_builtin : bool
        Register in the built-in ``llmphys.registry`` (and its glossary) instead.

    Returns
    -------
    Formula
        The registered formula (the one already registered, when ``name`` is defined again
        with the very same definition).

    Raises
    ------
    UnitError
        The expression's units do not reduce to ``result`` (naming the term).
    FormulaDefinitionError, UnsafeFormulaError, UnknownNameError
        A bad name, text outside the whitelist, an unknown name.
    """
    if registry is not None and register_builtin:
        raise FormulaDefinitionError(
            f"formula {name!r}: give registry= or register_builtin=True, not both"
        )
    target = builtin_registry if register_builtin else (registry or user_registry)
    unit = parse_unit(result, f"formula {name!r}: result")
    unit_text = format(unit, "D") if unit != ureg.Unit("") else ""
    analysis = analyse(text_or_expr, units, target)
    existing = _same_definition(name, analysis.expr, unit, target, analysis)
    if existing is not None:
        return existing
    shown = name.replace("_", r"\_")
    options = {
        "unit": unit_text,
        "latex": latex if latex is not None else rf"\mathrm{{{shown}}}",
        # given only the LaTeX, the text is read from it (as for every formula); else the name
        "text": name if text is None and latex is None else text,
        "doc": doc,
        "source": source,
        "meaning": None if doc.strip() else f"{name} (user-defined formula)",
        "module": "",
    }
    # first in a staging registry (a child of the target): every check runs, nothing shared
    # changes if one fails; then for real, with the declared symbols added to the target
    staging = Registry(analysis.glossary, parent=target)
    build(name, analysis.expr, parts=analysis.parts, registry=staging, **options)
    for entry in analysis.declared.values():
        target.glossary.add(entry)
    return build(name, analysis.expr, parts=analysis.parts, registry=target, **options)


def _same_definition(
    name: str, expr: sympy.Expr, unit: pint.Unit, target: Registry, analysis: Analysis
) -> Formula | None:
    """The formula already registered as ``name`` with this very definition (a re-run)."""
    if name not in target:
        return None
    existing = target[name]
    if (
        existing.expr == expr
        and existing.unit == unit
        and not analysis.declared  # its symbols were added then, so they resolve as known now
        and {p.name for p in existing.parts.values()} == {p.name for p in analysis.parts.values()}
    ):
        return existing
    return None
