"""The box beside a slider: the slider's value as people write it (``70B`` parameters,
``32k`` tokens, ``3.35 TB/s``), and a value typed there read the same way.

A log slider's own readout reads a typed number in the slider's units with none of the
suffixes people use, and a keyboard or a slider clamps whatever falls outside its range:
typing ``40`` into a readout showing ``70.0G`` gave ``100M`` (the minimum).  The box reads what
is typed with :func:`llmphys.engine.parse.parse_value` (the CLI's reader: ``70B`` is 70 billion
for a count, ``32k`` is 32,768 for a token count, a unit converts; a plain number is in the
entry's unit, never scaled by the suffix shown), and reads the SI ``G`` of a slider's readout
(``70.0G``) as ``B``, a billion.  It widens the slider's range when the value lies outside it
(a log slider's or a linear one's), and never clamps: a batch of 2,000 typed beside a slider
that ends at 1,024 is 2,000.  Something it cannot read, or a value the symbol cannot take
(a batch of 0, a utilization of 1.2), leaves the value as it was and says why: in its tooltip,
and to ``on_refused`` when one is given (the sizing page shows it under the row).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import pint

from llmphys.controls import set_unclamped
from llmphys.engine.coercion import coerce
from llmphys.engine.formatting import format_quantity
from llmphys.engine.glossary import Entry
from llmphys.engine.parse import COUNT_SUFFIXES, TOKEN_SUFFIXES, parse_value
from llmphys.errors import LlmphysError
from llmphys.units import Q_

__all__ = ["custom_box", "read_typed", "shown", "value_box"]

#: the suffixes a count is shown with, largest first (70B parameters, 1.5M, 2T), at the
#: scales the reader gives them
_COUNT_STEPS = tuple((s, COUNT_SUFFIXES[s]) for s in ("T", "B", "M"))
#: a token count in the context-length suffixes (32k = 32,768, 1M = 1,048,576)
_TOKEN_STEPS = tuple((s, TOKEN_SUFFIXES[s]) for s in ("M", "k"))
#: a count written with the SI prefix of a slider's readout, ``70.0G``: G is B, a billion
_SI_GIGA = re.compile(r"\s*([0-9][0-9.,_]*(?:[eE][+-]?[0-9]+)?)\s*G\s*")


def shown(entry: Entry, value: float) -> str:
    """``value`` (in ``entry``'s unit) as people write it, and as :func:`parse_value` reads it
    back: ``70B``, ``70.55B``, ``32k`` (a token count of 32,768), ``10000``, ``3.35 TB/s``."""
    if entry.pint_unit.dimensionality:  # a quantity: its readable unit
        return format_quantity(Q_(value, entry.pint_unit), sig=4)
    if entry.unit == "token":  # a whole number of the suffix's scale, else the digits
        for suffix, scale in _TOKEN_STEPS:
            if value >= scale and float(value / scale).is_integer():
                return f"{value / scale:g}{suffix}"
        return f"{value:.0f}" if float(value).is_integer() and value < 1e15 else f"{value:.6g}"
    for suffix, scale in _COUNT_STEPS:
        if abs(value) >= scale:
            return f"{value / scale:.4g}{suffix}"
    return f"{value:.6g}"


def read_typed(entry: Entry, text: str) -> float:
    """The value ``text`` means for ``entry``, in its unit, read as typed: ``40`` is 40,
    ``40B`` and ``40G`` 40 billion (a count), ``32k`` 32,768 (a token count), ``80 GB`` 80e9
    bytes.  Raises the reader's error (an :class:`~llmphys.errors.LlmphysError`) otherwise."""
    if not entry.pint_unit.dimensionality:
        giga = _SI_GIGA.fullmatch(text)
        if giga:
            text = f"{giga.group(1)}B"
    return float(coerce(entry, parse_value(text, entry, entry.name), entry.name))


def value_box(
    entry: Entry,
    slider: widgets.ValueWidget,
    on_refused: Callable[[str], None] | None = None,
) -> widgets.Text:
    """A text box kept equal to ``slider`` (its value as :func:`shown` writes it); a value
    typed there sets the slider, its range widened to hold it.

    Parameters
    ----------
    entry : Entry
        The glossary entry of the slider's symbol (how a typed value is read and checked).
    slider : ipywidgets.ValueWidget
        A slider made by :func:`llmphys.controls.control_for` (log or linear).
    on_refused : callable, optional
        Called with a sentence when a typed value is not used (unreadable, or a value the
        symbol cannot take), and with ``""`` when the next one is.

    Returns
    -------
    ipywidgets.Text
        The box.
    """
    hint = f"type a value ({entry.text}): 70B, 32k, 3.35 TB/s"
    box = widgets.Text(
        value=shown(entry, slider.value),
        continuous_update=False,  # read when Enter is pressed or the box is left
        layout=widgets.Layout(width="9em"),
        tooltip=hint,
    )

    def from_slider(change: dict[str, Any]) -> None:
        box.value = shown(entry, change["new"])

    def from_box(change: dict[str, Any]) -> None:
        text = change["new"]
        if text == shown(entry, slider.value):
            return
        try:
            value = read_typed(entry, text)  # coerce refuses zero and negatives
        except (LlmphysError, pint.PintError, ValueError, ArithmeticError) as exc:
            box.tooltip = str(exc)
            box.value = shown(entry, slider.value)
            if on_refused is not None:
                on_refused(f"{text!r} was not used ({exc}); it stays {box.value}")
            return
        box.tooltip = hint
        if on_refused is not None:
            on_refused("")
        set_unclamped(slider, value)  # the range widened to hold it: never clamped
        box.value = shown(entry, slider.value)

    slider.observe(from_slider, "value")
    box.observe(from_box, "value")
    return box


def custom_box(entry: Entry) -> widgets.FloatText:
    """The number box beside a precision dropdown, used when "custom" is chosen."""
    return widgets.FloatText(
        value=entry.default or 1.0,
        disabled=True,
        layout=widgets.Layout(width="8em"),
        tooltip=f"custom {entry.text}, in {entry.unit_text}",
    )
