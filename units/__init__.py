"""The one unit registry of llmphys, and the bridge that checks SymPy expressions with it.

>>> from llmphys.units import ureg, Q_
>>> print(Q_(80, "GB").to("GiB").round(4))
74.5058 GiB
>>> 1 * ureg.byte + 3
Traceback (most recent call last):
...
pint.errors.DimensionalityError: Cannot convert from 'byte' to 'dimensionless'

The registry is loaded from ``definitions.txt`` beside this file (self-contained: pint's
stock definitions are not loaded, because they make bytes dimensionless).  Import it only as
``llmphys.units``: a second import name would build a second registry, and pint refuses to
mix quantities of two registries.
"""

from __future__ import annotations

from pathlib import Path

import pint

from llmphys.units.expression import (
    UnitSymbol,
    as_numbers,
    expression_unit,
    same_unit,
    unit_symbol,
)

__all__ = [
    "DEFINITIONS",
    "Q_",
    "UnitSymbol",
    "as_numbers",
    "describe_dimension",
    "expression_unit",
    "same_unit",
    "unit_symbol",
    "ureg",
]

#: The definitions file the registry is loaded from.
DEFINITIONS = Path(__file__).with_name("definitions.txt")

ureg = pint.UnitRegistry(str(DEFINITIONS), cache_folder=None)
ureg.formatter.default_format = "~P"
Q_ = ureg.Quantity


def describe_dimension(unit: pint.Unit | str) -> str:
    """The dimension of a unit as pint writes it: ``[information] / [time]``, ``dimensionless``."""
    dim = ureg.Unit(unit).dimensionality if isinstance(unit, str) else unit.dimensionality
    return str(dim) if dim else "dimensionless"
