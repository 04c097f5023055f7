r"""The glossary's tables: each topic's symbols are data, in a TOML file beside its module.

A topic module (``seed``, ``architecture``, ...) says where its defaults come from and calls
:func:`declare` on its table; the table holds the symbols, one ``[name]`` table each, in
reading order (formulas print their factors in this order).  The key is the python name (the
keyword argument); the fields are those of :class:`~llmphys.engine.glossary.Entry`:

=========  ==================================================================================
latex      the conventional display symbol in LaTeX (``'n_{\mathrm{kv}}'``: a literal string
           keeps the backslashes)
text       the same symbol in plain text (``"n_kv"``), for terminals
unit       the symbol's own unit in llmphys's registry (plain numbers given for it are read in
           it); ``""`` for a plain number
meaning    what the symbol is, in a phrase
domain     ``positive`` when left out; ``nonnegative``, ``fraction`` (0, 1] or
           ``unit_interval`` [0, 1]
integer    ``true`` for a whole number
default    a reference value (the module's docstring says whose)
range      a widget's slider range ``[low, high]``
choices    named values: ``"precisions"`` (:data:`llmphys.precisions.PRECISIONS`)
=========  ==================================================================================

Everything is checked when the table is read, at import: a missing or unknown field, unknown
choices, an unknown unit or domain, a name defined twice are refused, naming the symbol.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any

import pint

from llmphys.engine.glossary import Entry, glossary
from llmphys.errors import FormulaDefinitionError
from llmphys.precisions import PRECISIONS

__all__ = ["declare"]

#: The named sets of values a symbol's ``choices`` may name.
CHOICES: Mapping[str, Mapping[str, float]] = {"precisions": PRECISIONS}

_REQUIRED = ("latex", "text", "unit", "meaning")
_FIELDS = (*_REQUIRED, "domain", "integer", "default", "range", "choices")


def declare(filename: str) -> tuple[Entry, ...]:
    """Add the symbols of one table (a TOML file of this package) to the glossary, in order.

    Parameters
    ----------
    filename
        The table's file name, beside the topic's module (``"seed.toml"``).

    Returns
    -------
    tuple of Entry
        The symbols added, in the table's order.

    Raises
    ------
    FormulaDefinitionError
        A symbol lacks a field or has an unknown one or unknown choices, or is refused by the
        glossary (unknown unit or domain, a name defined twice).
    """
    text = resources.files(__package__).joinpath(filename).read_text(encoding="utf-8")
    return tuple(
        glossary.add(_entry(filename, name, fields))
        for name, fields in tomllib.loads(text).items()
    )


def _entry(filename: str, name: str, fields: Mapping[str, Any]) -> Entry:
    unknown = [k for k in fields if k not in _FIELDS]
    missing = [k for k in _REQUIRED if k not in fields]
    if unknown or missing:
        wrong = [f"has unknown field {k!r}" for k in unknown] + [f"lacks {k!r}" for k in missing]
        raise FormulaDefinitionError(
            f"glossary: {filename} [{name}] {' and '.join(wrong)}; a symbol's fields are "
            f"{', '.join(_FIELDS)} (the first {len(_REQUIRED)} required)"
        )
    values = dict(fields)
    if "range" in values:
        values["range"] = tuple(values["range"])
    if "choices" in values:
        if values["choices"] not in CHOICES:
            raise FormulaDefinitionError(
                f"glossary: {filename} [{name}] has unknown choices {values['choices']!r}; "
                f"use one of {', '.join(CHOICES)}"
            )
        values["choices"] = CHOICES[values["choices"]]
    try:
        return Entry(name, **values)
    except pint.UndefinedUnitError:
        raise FormulaDefinitionError(
            f"glossary: {filename} [{name}] has unit {values['unit']!r}, which llmphys's unit "
            "registry does not know"
        ) from None
