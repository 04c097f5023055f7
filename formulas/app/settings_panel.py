"""The sizing page's settings: a control per setting and assumption, each built from its
glossary entry (:func:`llmphys.widgets.control_for`), and the assumption set that resets the
assumptions' controls to its values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets

from llmphys.app.figures import ASSUMPTIONS, SETTINGS
from llmphys.app.views import escape, hook
from llmphys.controls import CUSTOM, control_for, read_control
from llmphys.engine.formula import registry
from llmphys.errors import LlmphysError

__all__ = ["SettingsPanel"]

_LABELS = {
    "bytes_per_param": "weights",
    "kv_bytes": "KV cache",
    "prompt_len": "prompt",
    "new_tokens": "output",
    "batch": "batch",
    "tp": "tensor parallel",
    "pp": "pipeline stages",
    "ep": "expert parallel",
    "price_per_gpu_hour": "$ per GPU-hour",
    "workspace_fraction": "workspace",
    "utilization": "MFU",
    "bw_utilization": "MBU",
    "overhead": "TTFT overhead",
    "flash_attention": "FlashAttention",
    "causal_factor": "causal factor",
    "prompt_logprobs": "prompt log-probs",
    "act_bytes": "activations",
}
_CONTROL_LABEL = widgets.Layout(width="9.5em")
#: yes/no settings (1 or 0 in the glossary): check boxes
_SWITCHES = frozenset({"flash_attention", "prompt_logprobs"})


class SettingsPanel:
    """``controls`` (``{setting: widget}``), ``custom`` (number boxes of the "custom"
    precisions), ``assumption_set`` (a Dropdown), ``rows`` (the settings' rows) and
    ``assumptions`` (the folded box of the set and its values).  ``on_control`` sees every
    control's change, ``on_custom`` every custom box's."""

    def __init__(
        self,
        values: Mapping[str, Any],
        chosen: Any,
        on_control: Callable[..., None],
        on_custom: Callable[..., None],
    ) -> None:
        import llmphys

        values = dict(values)
        self._on_control = on_control
        self._on_custom = on_custom
        self.controls: dict[str, widgets.ValueWidget] = {}
        self.custom: dict[str, widgets.FloatText] = {}
        self.rows = [self._row(n, values.pop(n, None)) for n in SETTINGS]
        assumption_rows = [self._row(n, values.pop(n, None)) for n in ASSUMPTIONS]
        if values:
            raise LlmphysError(
                f"SizingApp: {next(iter(values))!r} is not a setting (settings: "
                f"{', '.join((*SETTINGS, *ASSUMPTIONS))})"
            )
        sets = llmphys.assumption_sets
        self.assumption_set = widgets.Dropdown(
            options=[(f"{n}: {sets[n].description[:60]}…", n) for n in sets],
            value=chosen.name,
            description="set",
            layout=widgets.Layout(width="30em"),
        )
        self.assumption_set.add_class("llmphys-assumptions")
        self.assumptions = widgets.Accordion(
            children=[widgets.VBox([self.assumption_set, *assumption_rows])], selected_index=None
        )
        self.title(chosen.name)

    def title(self, name: str) -> None:
        self.assumptions.set_title(0, f"assumptions: {name} (efficiencies, workspace, attention)")

    def reset_to(self, chosen: Any, compute: str) -> None:
        """The assumptions' controls at the values of the set ``chosen`` at compute precision
        ``compute``."""
        for name, value in chosen.at(compute)[0].items():
            if name in self.controls:
                self._set(self.controls[name], value)
        self.title(chosen.name)

    def follow(self, chosen: Any, old: str, new: str) -> None:
        """The controls still at the set's value at compute precision ``old`` move to its
        value at ``new``; a value the user set stays."""
        before, after = chosen.at(old)[0], chosen.at(new)[0]
        for name, value in after.items():
            control = self.controls.get(name)
            if control is not None and control.value == before[name] != value:
                self._set(control, value)

    def _row(self, name: str, value: Any) -> widgets.HBox:
        entry = registry.glossary[name]
        if name in _SWITCHES:  # a yes/no setting: a check box, not a 0-1 slider
            control = widgets.Checkbox(value=bool(value), indent=False)
        else:
            control = control_for(entry, value)
        control.layout = widgets.Layout(width="19em")  # a Layout of its own: never shared
        control.add_class(hook(name))
        control.observe(self._on_control, "value")
        self.controls[name] = control
        label = widgets.HTML(
            f"{escape(_LABELS.get(name, entry.text))} "
            f"<small style='color:#555'>{escape(entry.text)}</small>",
            layout=_CONTROL_LABEL,
            tooltip=entry.describe(),
        )
        parts: list[widgets.Widget] = [label, control]
        if entry.choices:
            box = widgets.FloatText(
                value=entry.default or 1.0,
                disabled=control.value != CUSTOM,
                layout=widgets.Layout(width="7em"),
                tooltip=f"custom {entry.text}, in {entry.unit_text}",
            )
            if control.value == CUSTOM and value is not None:
                box.value = float(value)
            box.add_class(hook(name + "_custom"))
            box.observe(self._on_custom, "value")
            self.custom[name] = box
            parts.append(box)
        parts.append(widgets.Label(entry.unit_text))
        return widgets.HBox(parts)

    def read(self) -> dict[str, float]:
        """The settings as the controls hold them, in glossary units."""
        return {
            name: float(control.value)
            if name in _SWITCHES
            else read_control(registry.glossary[name], control, self.custom.get(name))
            for name, control in self.controls.items()
        }

    @staticmethod
    def _set(control: widgets.ValueWidget, value: float) -> None:
        control.value = bool(value) if isinstance(control, widgets.Checkbox) else value
