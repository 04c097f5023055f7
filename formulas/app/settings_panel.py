"""The sizing page's settings: a control per setting and assumption, each built from its
glossary entry (:func:`llmphys.widgets.control_for`), and the assumption set that resets the
assumptions' controls to its values.

Every slider has a box beside it that reads a typed value as people write it (``32k``,
``2000``; :func:`llmphys.value_box.value_box`): a value beyond the slider's range widens the
range (batch 2,000 stays 2,000, never clamped to 1,024), and one the symbol cannot take (a batch
of 0) is refused with a sentence under the settings (``llmphys-typed-note``).  The weights'
precision starts "as released": the precisions the model's checkpoint stores (``fp8`` for
DeepSeek-V3, ``mxfp4`` experts for gpt-oss), which the page reads as a Scenario's
``weights=None``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets

from llmphys.app.figures import ASSUMPTIONS, SETTINGS
from llmphys.app.page_state import RELEASED
from llmphys.app.views import escape, hook
from llmphys.controls import CUSTOM, control_for, read_control, set_unclamped
from llmphys.engine.formula import registry
from llmphys.errors import LlmphysError
from llmphys.value_box import value_box

__all__ = ["SettingsPanel", "released_text"]

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
_CONTROL_LABEL = widgets.Layout(width="12em")
#: yes/no settings (1 or 0 in the glossary): check boxes
_SWITCHES = frozenset({"flash_attention", "prompt_logprobs"})
#: the sliders: a box beside each reads a typed value (never clamped)
_SLIDERS = (widgets.FloatLogSlider, widgets.IntSlider, widgets.FloatSlider)


def released_text(model: Any) -> str:
    """The precisions a model's checkpoint stores, short: ``bf16``, ``fp8_block128, embeddings
    bf16``, ``experts mxfp4, rest bf16``.

    >>> import llmphys
    >>> released_text(llmphys.models["gpt-oss-120b"])
    'experts mxfp4, rest bf16'
    """
    p = model.precisions
    body, experts, embeddings = p["bytes_per_param"], p["expert_bytes"], p["embedding_bytes"]
    if getattr(model, "is_moe", False) and experts != body:
        if embeddings == body:
            return f"experts {experts}, rest {body}"
        return f"experts {experts}, body {body}, embeddings {embeddings}"
    return body if embeddings == body else f"{body}, embeddings {embeddings}"


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
        #: the box beside each slider, by setting
        self.boxes: dict[str, widgets.Text] = {}
        #: why the last value typed in a box was not used (empty when it was)
        self.typed_note = widgets.HTML()
        self.typed_note.add_class("llmphys-typed-note")
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

    def show_released(self, model: Any) -> None:
        """Name the model's own precisions in the weights' "as released" choice."""
        control = self.controls.get("bytes_per_param")
        if control is None:
            return
        first = (f"as released ({released_text(model)})", RELEASED)
        options = [first, *[o for o in control.options if o[1] != RELEASED]]
        if list(control.options) != options:
            value = control.value
            with control.hold_trait_notifications():
                control.options = options
                control.value = value

    def _row(self, name: str, value: Any) -> widgets.HBox:
        entry = registry.glossary[name]
        released = name == "bytes_per_param" and (value is None or value == RELEASED)
        if name in _SWITCHES:  # a yes/no setting: a check box, not a 0-1 slider
            control = widgets.Checkbox(value=bool(value), indent=False)
        else:
            control = control_for(entry, None if released else value)
        if name == "bytes_per_param":  # the model's own precisions first, chosen by default
            options = [("as released", RELEASED), *control.options]
            control.options = options
            control.value = RELEASED if released else control.value
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
        if isinstance(control, _SLIDERS):  # typed as people write, never clamped
            control.readout = False
            control.layout.width = "13em"
            box = value_box(entry, control, self._refused(name))
            box.add_class(hook(name + "_box"))
            self.boxes[name] = box
            parts.append(box)
        if entry.choices:
            box = widgets.FloatText(
                value=entry.default or 1.0,
                disabled=control.value != CUSTOM,
                layout=widgets.Layout(width="7em"),
                tooltip=f"custom {entry.text}, in {entry.unit_text}",
            )
            if control.value == CUSTOM and value is not None and value != RELEASED:
                box.value = float(value)
            box.add_class(hook(name + "_custom"))
            box.observe(self._on_custom, "value")
            self.custom[name] = box
            parts.append(box)
        parts.append(widgets.Label(entry.unit_text))
        return widgets.HBox(parts)

    def held(self) -> dict[str, float | str]:
        """Each setting as its control holds it: a number in the glossary's unit, or for a
        precision its name, "released", or the custom box's number."""
        out: dict[str, float | str] = {}
        numbers = self.read()
        for name, control in self.controls.items():
            if control.value == CUSTOM:
                out[name] = float(self.custom[name].value)
            elif isinstance(control.value, str):
                out[name] = control.value
            else:
                out[name] = float(numbers[name] or 0.0)
        return out

    def put(self, settings: Mapping[str, float | str]) -> None:
        """Set the controls to ``settings`` (as :meth:`held` gives them); a number beyond a
        slider's range widens it, never clamped."""
        for name, value in settings.items():
            control = self.controls[name]
            if isinstance(control, widgets.Checkbox):
                control.value = bool(value)
            elif isinstance(value, str):  # a precision's name, or "released"
                control.value = value
            elif name in self.custom:  # a custom precision
                control.value = CUSTOM
                self.custom[name].value = value
            else:
                set_unclamped(control, value)

    def _refused(self, name: str) -> Callable[[str], None]:
        label = _LABELS.get(name, registry.glossary[name].text)

        def say(sentence: str) -> None:
            self.typed_note.value = (
                f"<span style='color:#b00020'>{escape(label)}: {escape(sentence)}</span>"
                if sentence
                else ""
            )

        return say

    def read(self) -> dict[str, float | None]:
        """The settings as the controls hold them, in glossary units; the weights' precision
        is None "as released" (the model's own)."""
        out: dict[str, float | None] = {}
        for name, control in self.controls.items():
            if name in _SWITCHES:
                out[name] = float(control.value)
            elif control.value == RELEASED:
                out[name] = None
            else:
                out[name] = read_control(registry.glossary[name], control, self.custom.get(name))
        return out

    @staticmethod
    def _set(control: widgets.ValueWidget, value: float) -> None:
        control.value = bool(value) if isinstance(control, widgets.Checkbox) else value
