"""The sizing page's accelerator inputs: the accelerator, its compute precision (the dense
peak FLOP rate used; the choices follow the accelerator's datasheet) and the link between
GPUs (the accelerator's usual one unless another is picked), with the accelerator's facts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets

from llmphys.app import panels

__all__ = ["HardwarePanel"]


class HardwarePanel:
    """``dropdown``, ``precision``, ``interconnect`` (Dropdowns) and ``info`` (HTML) over
    ``accelerators`` (``{name: Accelerator}``)."""

    def __init__(self, accelerators: Mapping[str, Any]) -> None:
        import llmphys

        self.accelerators = accelerators
        self.dropdown = widgets.Dropdown(
            options=[(a.display_name, n) for n, a in accelerators.items()],
            layout=widgets.Layout(width="22em"),
        )
        self.dropdown.add_class("llmphys-hardware")
        self.precision = widgets.Dropdown(
            description="compute", layout=widgets.Layout(width="12em")
        )
        self.precision.add_class("llmphys-precision")
        self.info = widgets.HTML()
        self.info.add_class("llmphys-hardware-info")
        links = llmphys.interconnects
        self.interconnect = widgets.Dropdown(
            options=[("the accelerator's usual link", "")]
            + [(links[n].display_name, n) for n in links],
            value="",
            description="link",
            layout=widgets.Layout(width="28em"),
        )
        self.interconnect.add_class("llmphys-interconnect")

    def select(self, name: str, precision: str) -> None:
        """Select accelerator ``name`` (the first when unknown) computing at ``precision``
        (its first precision when it has not that one)."""
        known = self.accelerators
        self.dropdown.value = known[name].name if name in known else next(iter(known))
        self.sync(precision)

    def sync(self, wanted: str) -> None:
        """The precision choices of the accelerator selected, ``wanted`` kept if it has it."""
        known = list(self.accelerators[self.dropdown.value].precisions())
        if list(self.precision.options) != known:
            self.precision.options = known
        self.precision.value = wanted if wanted in known else known[0]
        self.render()

    def render(self) -> None:
        if self.dropdown.value:
            accelerator = self.accelerators[self.dropdown.value]
            self.info.value = panels.hardware_info(accelerator, self.precision.value)
