"""Numbers and units as a person writes them: significant figures and readable prefixes.

* results get three significant figures (``1.66e15``, ``8.3``, ``26.2``);
* exact inputs keep every digit, with an engineering exponent when that is shorter
  (``70e9`` parameters, ``200e12`` FLOP/s, ``10000`` tokens);
* a quantity is shown in the prefix that puts its number in [1, 1000): ``1.66 PFLOP``,
  ``26.2 GB``, ``8.3 s``; memory in GB or GiB as asked (never one labelled as the other).
"""

from __future__ import annotations

import math

import numpy as np
import pint

from llmphys.units import ureg

__all__ = ["latex_number", "latex_text", "readable", "readable_unit", "text_number"]

_DECIMAL = [("", 1.0), ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("P", 1e15), ("E", 1e18)]
_BINARY = [
    ("", 1.0),
    ("Ki", 2.0**10),
    ("Mi", 2.0**20),
    ("Gi", 2.0**30),
    ("Ti", 2.0**40),
    ("Pi", 2.0**50),
]
_COUNTS = ("token", "parameter", "sequence", "element")  # named counts (units/definitions.txt)
_TIME = [("ns", 1e-9), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0), ("min", 60.0), ("h", 3600.0)]


def _split(x: float, sig: int) -> tuple[str, int]:
    """Mantissa text (trailing zeros dropped) and decimal exponent of ``x`` at ``sig`` figures."""
    text = f"{x:.{sig - 1}e}"
    mantissa, exponent = text.split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return mantissa, int(exponent)


def _engineering(x: float) -> tuple[str, int] | None:
    """``(70, 9)`` for 70e9 when x is an integer that reads better with an exponent."""
    if x != int(x) or abs(x) < 1e6:
        return None
    digits = f"{int(abs(x))}"
    stripped = digits.rstrip("0")
    zeros = len(digits) - len(stripped)
    exponent = zeros - zeros % 3
    if len(digits) - exponent > 4:  # too many digits before the exponent: not worth it
        return None
    mantissa = digits[: len(digits) - exponent]
    return ("-" if x < 0 else "") + mantissa, exponent


def text_number(x: float, sig: int = 3, exact: bool = False) -> str:
    """``x`` for a terminal: ``1.66e15``, ``8.3``, ``0.12``; ``exact`` keeps every digit."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    if exact:
        if x == int(x):
            eng = _engineering(x)
            return f"{eng[0]}e{eng[1]}" if eng else f"{int(x)}"
        return f"{x:.12g}"
    if float(x).is_integer() and abs(x) < 1e6:
        return f"{int(x)}"  # a whole number (1024 tokens) is never rounded to 1020
    if 1e-3 <= abs(x) < max(1e5, 10.0**sig):
        # no exponent below 1e5 (12346 stays 12346 at three figures), nor while every
        # integer digit is significant (123565.44 at eight)
        digits = max(sig, len(str(int(abs(x)))))
        return f"{float(f'{x:.{digits}g}'):.{digits}g}"
    mantissa, exponent = _split(x, sig)
    return f"{mantissa}e{exponent}"


def grouped(x: float) -> str:
    """A whole number in groups of three digits: ``70,553,706,496``."""
    return f"{int(x):,}"


_TEXT_ESCAPES = {"\\": r"\textbackslash{}", "_": r"\_", "%": r"\%", "&": r"\&",
                 "#": r"\#", "$": r"\$", "{": r"\{", "}": r"\}", "^": r"\^{}",
                 "~": r"\~{}"}  # fmt: skip


def latex_text(text: str) -> str:
    r"""``text`` safe inside LaTeX's ``\text{...}``: its special characters escaped (a
    symbol's plain name such as ``n_GPU`` is not math there)."""
    return "".join(_TEXT_ESCAPES.get(c, c) for c in text)


def latex_number(x: float, sig: int = 3, exact: bool = False) -> str:
    """``x`` in LaTeX: ``1.66 \\times 10^{15}``; plain figures where no exponent is needed."""
    text = text_number(x, sig, exact)
    if "e" not in text or not math.isfinite(x):
        return text
    mantissa, exponent = text.split("e")
    if mantissa in ("1", "-1"):
        sign = "-" if mantissa == "-1" else ""
        return f"{sign}10^{{{int(exponent)}}}"
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


def readable_unit(q: pint.Quantity, binary: bool = False) -> str:
    """The unit that puts ``q``'s magnitude in [1, 1000): ``PFLOP``, ``GB`` (``GiB``), ``ms``.

    Dimensions without a natural prefix (plain counts, FLOP per byte) keep their unit.
    """
    dim = q.dimensionality
    base = q.to_base_units().magnitude
    magnitude = abs(float(base)) if np.size(base) == 1 else None
    if magnitude is None or magnitude == 0 or not math.isfinite(magnitude):
        return f"{q.units:~P}"
    if dim == ureg.second.dimensionality:
        chosen = _TIME[0][0]
        for name, factor in _TIME:
            if magnitude >= factor * (2 if name in ("min", "h") else 1):
                chosen = name
        return chosen
    bases = {
        ureg.byte.dimensionality: "B",
        ureg.FLOP.dimensionality: "FLOP",
        (ureg.byte / ureg.second).dimensionality: "B/s",
        (ureg.FLOP / ureg.second).dimensionality: "FLOP/s",
        (ureg.bit / ureg.second).dimensionality: "B/s",
    }
    base = bases.get(dim)
    if base is None:
        return f"{q.units:~P}"
    table = _BINARY if binary and base == "B" else _DECIMAL  # bandwidths stay decimal
    chosen = ""
    for prefix, factor in table:
        if magnitude >= factor:
            chosen = prefix
    # keep the named counts of the unit (GFLOP/tok, GB/tok): dimensionless, scale 1
    counts = ureg.Unit("")
    for name, power in q.units._units.items():
        if name in _COUNTS:
            counts *= ureg.Unit(name) ** power
    if counts != ureg.Unit(""):
        return f"{ureg.Unit(chosen + base) * counts:~P}"
    return chosen + base


def readable(q: pint.Quantity, binary: bool = False) -> pint.Quantity:
    """``q`` converted to :func:`readable_unit` (as it is when that is its own unit: a
    pretty-printed unit such as ``b⁰⋅⁵`` is for reading, not for pint to parse back)."""
    unit = readable_unit(q, binary)
    return q if unit == f"{q.units:~P}" else q.to(unit)


def format_quantity(
    q: pint.Quantity, sig: int = 3, binary: bool = False, latex: bool = False
) -> str:
    """``26.2 GB`` (``24.4 GiB`` with ``binary``); LaTeX puts the unit upright."""
    shown = readable(q, binary)
    number = float(shown.magnitude)
    unit = f"{shown.units:~P}" if shown.units != ureg.Unit("") else ""
    if latex:
        figures = latex_number(number, sig)
        return figures + (rf"\,\mathrm{{{_latex_unit(unit)}}}" if unit else "")
    return text_number(number, sig) + (f" {unit}" if unit else "")


def _latex_unit(unit: str) -> str:
    return unit.replace("µ", r"\mu ").replace("·", r"\cdot ")
