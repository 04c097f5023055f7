"""Accelerators: datasheet figures with their units, source and date.

An :class:`Accelerator` stores what a datasheet and the driver say, exactly: the dense peak FLOP
rate per precision (``None`` where the chip has no such tensor-core path), the memory bandwidth,
the memory capacity both as labelled ("80 GB") and as the driver reports it (81,920 MiB =
80 GiB = 85.9 GB), the L2 (or last-level) cache.  :meth:`Accelerator.inputs_for` fills a
formula's hardware inputs (``peak_flops``, ``mem_bandwidth``, ``gpu_memory``).

>>> import llmphys as F
>>> a100 = F.hardware["a100-80gb"]
>>> print(a100.capacity.to("GiB"), f"{a100.capacity.to('GB'):.3g~P}")
80.0 GiB 85.9 GB
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pint

from llmphys.engine import Formula, registry
from llmphys.engine.binding import preset_values
from llmphys.errors import InputError, did_you_mean
from llmphys.precisions import PRECISIONS

__all__ = ["Accelerator"]


@dataclass(frozen=True)
class Accelerator:
    """One accelerator's datasheet figures (dense peaks), with source and date.

    ``capacity`` is the memory the driver reports (exact; what fits), ``capacity_label`` the
    figure printed on the datasheet.  ``peak`` maps a precision name to the dense peak rate, or
    to ``None`` when the chip has no tensor-core path for it.
    """

    name: str
    display_name: str
    vendor: str
    memory_type: str
    capacity: pint.Quantity
    capacity_label: pint.Quantity
    mem_bandwidth: pint.Quantity
    peak: Mapping[str, pint.Quantity | None]
    l2: pint.Quantity | None = None
    measured_bf16: pint.Quantity | None = None
    notes: tuple[str, ...] = ()
    source: str = ""
    as_of: str = ""
    #: the GPU-to-GPU link of its usual server (an ``llmphys.interconnects`` name), if known
    interconnect: str | None = None
    #: the board's maximum power (TDP) and the vendor document it is quoted from
    tdp: pint.Quantity | None = None
    tdp_source: str = ""

    def __repr__(self) -> str:
        bf16 = self.peak.get("bf16")
        peak = f", {bf16.to('TFLOPS'):.4g~P} BF16" if bf16 is not None else ""
        return (
            f"<Accelerator {self.name}: {self.display_name}, {self.capacity_text()}, "
            f"{self.mem_bandwidth.to('GB/s'):.5g~P}{peak}>"
        )

    def capacity_text(self) -> str:
        """Label and driver figure side by side: ``"80 GB" label = 81,920 MiB = 80 GiB =
        85.9 GB``.

        Returns
        -------
        str
            The capacity as the label prints it and as the driver reports it.
        """
        exact = self.capacity
        parts = [f'"{self.capacity_label:~P}" label']
        if str(exact.units) != "byte":
            parts.append(f"{exact.magnitude:,} {exact.units:~P}")
        else:
            parts.append(f"{exact.magnitude:,} B")
        parts.append(f"{exact.to('GiB'):.4g~P}")
        parts.append(f"{exact.to('GB'):.4g~P}")
        return " = ".join(parts)

    def precisions(self) -> list[str]:
        """Precisions with a dense peak on record.

        Returns
        -------
        list of str
            Their names, in the datasheet's order.
        """
        return [p for p, q in self.peak.items() if q is not None]

    def peak_flops(self, precision: str = "bf16") -> pint.Quantity:
        """Dense peak FLOP rate at a precision.

        Parameters
        ----------
        precision
            ``"bf16"``, ``"fp16"``, ``"fp8"``, ``"int8"``...

        Returns
        -------
        Quantity
            The datasheet's dense peak (no sparsity).

        Raises
        ------
        InputError
            The accelerator has no peak on record at that precision (or no such tensor
            cores), or the precision is unknown.
        """
        key = precision.strip().lower()
        if key not in self.peak:
            known = ", ".join(self.peak)
            if key in PRECISIONS:
                raise InputError(
                    f"accelerator '{self.name}': no dense {key} peak on record "
                    f"(datasheet figures: {known})"
                )
            raise InputError(
                f"accelerator '{self.name}': unknown precision {precision!r}"
                f"{did_you_mean(key, self.peak)} (known: {known})"
            )
        value = self.peak[key]
        if value is None:
            raise InputError(
                f"accelerator '{self.name}' ({self.display_name}) has no {key} tensor cores: "
                f"no dense {key} peak; use one of {', '.join(self.precisions())}"
            )
        return value

    def values(self, precision: str = "bf16") -> dict[str, pint.Quantity]:
        """``peak_flops`` (dense, at ``precision``), ``mem_bandwidth``, ``gpu_memory`` (the
        capacity the driver reports) and ``board_power`` (the TDP), in the glossary's units.

        Parameters
        ----------
        precision
            The compute precision whose dense peak is ``peak_flops``.

        Returns
        -------
        dict of str to Quantity
            Glossary input -> value.
        """
        return {name: fill() for name, fill in self._fills(precision).items()}

    def _fills(self, precision: str) -> dict[str, Any]:
        fills = {
            "peak_flops": lambda: self.peak_flops(precision).to("FLOP/second"),
            "mem_bandwidth": lambda: self.mem_bandwidth.to("byte/second"),
            "gpu_memory": lambda: self.capacity.to("byte"),
        }
        if self.tdp is not None:  # the most a board draws: the bound of board_power
            fills["board_power"] = lambda: self.tdp.to("watt")
        return fills

    def inputs_for(
        self, f: Formula | str, precision: str = "bf16", given: Iterable[str] = ()
    ) -> dict[str, pint.Quantity]:
        """This accelerator's values for the hardware inputs of ``f`` (the rest stay free):
        ``f(**gpu.inputs_for(f), ...)``.

        Parameters
        ----------
        f
            A formula or a registry formula's name.
        precision
            The compute precision (picks the dense peak).
        given
            Parts of ``f`` the caller gives directly, as in
            :meth:`llmphys.presets.Model.inputs_for`.

        Returns
        -------
        dict of str to Quantity
            The hardware inputs ``f`` still needs.
        """
        return preset_values(
            registry[f] if isinstance(f, str) else f, self._fills(precision), given
        )


def accelerator_from_entry(name: str, entry: Mapping[str, Any]) -> Accelerator:
    """Build an :class:`Accelerator` from one table of ``hardware.toml``."""
    from llmphys.units import Q_

    def quantity(text: str) -> pint.Quantity | None:
        return None if text == "unsupported" else Q_(text)

    peak = {p: quantity(v) for p, v in entry["peak"].items()}
    return Accelerator(
        name=name,
        display_name=entry["name"],
        vendor=entry["vendor"],
        memory_type=entry["memory_type"],
        capacity=Q_(entry["capacity"]),
        capacity_label=Q_(entry["capacity_label"]),
        mem_bandwidth=Q_(entry["bandwidth"]),
        peak=MappingProxyType(peak),
        l2=Q_(entry["l2"]) if "l2" in entry else None,
        measured_bf16=Q_(entry["measured_bf16"]) if "measured_bf16" in entry else None,
        notes=tuple(entry.get("notes", ())),
        source=entry["source"],
        as_of=entry["as_of"],
        interconnect=entry.get("interconnect"),
        tdp=Q_(entry["tdp"]) if "tdp" in entry else None,
        tdp_source=entry.get("tdp_source", ""),
    )
