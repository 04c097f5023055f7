"""Interconnect presets: the links between accelerators, as their datasheets print them.

``llmphys.interconnects[name]`` is an :class:`Interconnect` from ``interconnects.toml`` beside
this file, read on first access.  Each keeps the datasheet figure with its unit and what it
counts; the bandwidth of one GPU in one direction (the formulas' ``link_bandwidth``) and the
total of both directions are derived from it with the unit registry, so bits and bytes, and
"both directions" and "each direction", are never confused by hand:

>>> import llmphys as F
>>> ib = F.interconnects["infiniband-ndr"]
>>> print(ib.conversion())
400 Gb/s each direction = 50 GB/s per direction (8 bits per byte)
>>> print(F.interconnects["nvlink-4"].conversion())
900 GB/s over both directions = 450 GB/s per direction
>>> try:  # a refusal: its type and message
...     F.interconnects["nvlink4"]
... except Exception as error:
...     print(f"{type(error).__name__}: {error}")
UnknownNameError: unknown interconnect 'nvlink4'; did you mean 'nvlink-4'? ...
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import pint

from llmphys.engine import Formula, registry
from llmphys.engine.binding import preset_values
from llmphys.engine.variants import takes_formula
from llmphys.errors import ConfigError
from llmphys.presets import Catalog

__all__ = ["Interconnect", "interconnect_from_entry", "interconnects"]

_COUNTS = ("both directions", "each direction")


@dataclass(frozen=True)
class Interconnect:
    """One interconnect: its datasheet figure (with unit, and what it counts), the bandwidth per
    GPU and direction derived from it, and a typical per-hop latency, with sources and date."""

    name: str
    display_name: str
    kind: str
    datasheet: pint.Quantity
    counts: Literal["both directions", "each direction"]
    lanes: int
    encoding: Fraction
    encoding_text: str
    latency: pint.Quantity
    links: int | None = None
    link_datasheet: pint.Quantity | None = None
    notes: tuple[str, ...] = ()
    source: str = ""
    latency_source: str = ""
    as_of: str = ""

    @property
    def per_direction(self) -> pint.Quantity:
        """Bandwidth of one GPU in one direction, in GB/s: the formulas' ``link_bandwidth``."""
        both = 2 if self.counts == "both directions" else 1
        rate = self.datasheet * self.lanes * float(self.encoding) / both
        return rate.to("GB/s")

    @property
    def bidirectional(self) -> pint.Quantity:
        """Bandwidth of one GPU over both directions together, in GB/s (NVIDIA's NVLink figure)."""
        return (2 * self.per_direction).to("GB/s")

    def conversion(self) -> str:
        """How the per-direction figure follows from the datasheet's, units shown.

        Returns
        -------
        str
            ``"400 Gb/s each direction = 50 GB/s per direction (8 bits per byte)"``.
        """
        parts = [_figure(self.datasheet)]
        if self.lanes != 1:
            parts.append(f"x {self.lanes} lanes")
        if self.encoding != 1:
            parts.append(f"x {self.encoding_text} encoding")
        how = "over both directions" if self.counts == "both directions" else "each direction"
        text = f"{' '.join(parts)} {how} = {self.per_direction:.3g~P} per direction"
        if any(name.endswith("bit") for name, _ in self.datasheet.unit_items()):
            text += " (8 bits per byte)"
        return text

    def __repr__(self) -> str:
        return (
            f"<Interconnect {self.name}: {self.display_name}, {self.per_direction:.4g~P} per "
            f"direction ({self.bidirectional:.4g~P} both), {self.latency.to('us'):.2g~P} per hop>"
        )

    def values(self) -> dict[str, pint.Quantity]:
        """``link_bandwidth`` (per direction) and ``link_latency`` (per hop), in glossary units.

        Returns
        -------
        dict of str to Quantity
            Glossary input -> value.
        """
        return {
            "link_bandwidth": self.per_direction.to("byte/second"),
            "link_latency": self.latency.to("second"),
        }

    @takes_formula
    def inputs_for(self, f: Formula | str, given: Iterable[str] = ()) -> dict[str, pint.Quantity]:
        """This interconnect's values for the link inputs of ``f`` (the rest stay free):
        ``f(**link.inputs_for(f), ...)``.

        Parameters
        ----------
        {params}
        given
            Parts of ``f`` the caller gives directly.

        Returns
        -------
        dict of str to Quantity
            The link inputs ``f`` still needs.
        """
        return preset_values(registry[f] if isinstance(f, str) else f, self.values(), given)


def _figure(q: pint.Quantity) -> str:
    """A datasheet figure as printed: ``400 Gb/s``, ``1.8 TB/s``."""
    return f"{q.magnitude:g} {q.units:~P}"


def interconnect_from_entry(name: str, entry: Mapping[str, Any]) -> Interconnect:
    """Build an :class:`Interconnect` from one table of ``interconnects.toml``."""
    from llmphys.units import Q_

    counts = entry["counts"]
    if counts not in _COUNTS:
        raise ConfigError(
            f"interconnect {name!r}: counts must be one of {', '.join(map(repr, _COUNTS))}; "
            f"got {counts!r}"
        )
    datasheet = Q_(entry["datasheet"])
    try:
        datasheet.to("byte/second")
    except pint.DimensionalityError:
        raise ConfigError(
            f"interconnect {name!r}: datasheet {entry['datasheet']!r} is not a data rate"
        ) from None
    return Interconnect(
        name=name,
        display_name=entry["name"],
        kind=entry["kind"],
        datasheet=datasheet,
        counts=counts,
        lanes=int(entry.get("lanes", 1)),
        encoding=Fraction(entry.get("encoding", "1")),
        encoding_text=entry.get("encoding", "1"),
        latency=Q_(entry["latency"]),
        links=entry.get("links"),
        link_datasheet=Q_(entry["link_datasheet"]) if "link_datasheet" in entry else None,
        notes=tuple(entry.get("notes", ())),
        source=entry["source"],
        latency_source=entry["latency_source"],
        as_of=entry["as_of"],
    )


#: The reference interconnects, by name.
interconnects: Catalog[Interconnect] = Catalog.from_toml(
    "interconnect", __name__, "interconnects.toml", interconnect_from_entry
)
