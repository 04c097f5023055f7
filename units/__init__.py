"""The one unit registry of llmphys, and the bridge that checks SymPy expressions with it.

>>> from llmphys.units import ureg, Q_
>>> print(Q_(80, "GB").to("GiB").round(4))
74.5058 GiB
>>> try:  # a byte count and a bare number do not add
...     1 * ureg.byte + 3
... except Exception as error:
...     print(f"{type(error).__name__}: {error}")
DimensionalityError: Cannot convert from 'byte' to 'dimensionless'

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
    "dimension_words",
    "expression_unit",
    "same_unit",
    "unit_symbol",
    "ureg",
]

# the definitions file the registry is loaded from (not in the API pages: its value is a path)
DEFINITIONS = Path(__file__).with_name("definitions.txt")

ureg = pint.UnitRegistry(str(DEFINITIONS), cache_folder=None)
ureg.formatter.default_format = "~P"
Q_ = ureg.Quantity


#: each base dimension in words, as a reader says what a quantity measures
_DIMENSION_WORDS = {  # (above the line, below it)
    "[information]": ("bytes", "byte"),
    "[compute]": ("FLOP", "FLOP"),
    "[time]": ("time", "time"),
    "[energy]": ("energy", "energy"),
    "[currency]": ("money", "money"),
}


def dimension_words(unit: pint.Unit | str) -> str:
    """What a unit measures, in words: ``bytes``, ``bytes per time``, ``FLOP per byte``,
    ``a plain number``.

    Parameters
    ----------
    unit
        A pint unit or its text (``"GB/s"``).

    Returns
    -------
    str
        What it measures, in words.

    Examples
    --------
    >>> dimension_words("GB/s"), dimension_words("FLOP/byte"), dimension_words("token")
    ('bytes per time', 'FLOP per byte', 'a plain number')
    """
    dim = _dimensionality(unit)
    if not dim:
        return "a plain number"

    def words(items: list[tuple[str, float]], below: bool = False) -> str:
        out = []
        for name, power in items:
            plain = name.strip("[]")
            word = _DIMENSION_WORDS.get(name, (plain, plain))[below]
            p = abs(power)
            out.append(word if p == 1 else f"{word}^{p:g}")
        return " x ".join(out)

    up = [(k, v) for k, v in dim.items() if v > 0]
    down = [(k, v) for k, v in dim.items() if v < 0]
    if not up:
        return f"per {words(down, below=True)}"
    return words(up) + (f" per {words(down, below=True)}" if down else "")


def describe_dimension(unit: pint.Unit | str) -> str:
    """The dimension of a unit as pint writes it: ``[information] / [time]``, ``dimensionless``.

    Parameters
    ----------
    unit
        A pint unit or its text.

    Returns
    -------
    str
        Its dimensionality.
    """
    dim = _dimensionality(unit)
    return str(dim) if dim else "dimensionless"


def _dimensionality(unit: pint.Unit | str) -> pint.util.UnitsContainer:
    return ureg.Unit(unit).dimensionality if isinstance(unit, str) else unit.dimensionality
