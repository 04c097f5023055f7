"""What a :class:`~llmphys.Scenario`'s arguments may be, and the checks they pass: a model by
preset name, Hugging Face id, ``config.json`` path or dict; an accelerator and an interconnect
by name; a layout the model allows (heads and experts divide over the GPUs, no empty
pipeline stage)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from os import PathLike
from types import SimpleNamespace
from typing import Any

import numpy as np

from llmphys.errors import InputError
from llmphys.precisions import WEIGHT_CLASSES

__all__ = [
    "WEIGHT_CLASSES",
    "accelerator_of",
    "argument_name",
    "check_layout",
    "glossary_name",
    "interconnect_of",
    "model_of",
    "stage_layers",
    "weight_precisions",
]

#: the Scenario's arguments named otherwise in the glossary: the output length is new_tokens
_GLOSSARY_NAMES = {"output_len": "new_tokens"}
_ARGUMENT_NAMES = {v: k for k, v in _GLOSSARY_NAMES.items()}


def glossary_name(name: str) -> str:
    """The glossary's name of a Scenario argument (``output_len`` -> ``new_tokens``)."""
    return _GLOSSARY_NAMES.get(name, name)


def argument_name(name: str) -> str:
    """The Scenario's argument for a glossary name (``new_tokens`` -> ``output_len``)."""
    return _ARGUMENT_NAMES.get(name, name)


def stage_layers(layers: Any, pp: Any) -> Any:
    """Layers of the most loaded pipeline stage, ceil(L / n_PP) (numbers or arrays)."""
    return np.ceil(np.asarray(layers, dtype=float) / pp)


def model_of(model: Any) -> Any:
    """A :class:`~llmphys.presets.Model`: as is, from a ``config.json`` dict or path, or a
    preset by name or Hugging Face id (an unknown name suggests the closest)."""
    import llmphys
    from llmphys.presets import Model

    if isinstance(model, Model):
        return model
    if isinstance(model, Mapping):
        return llmphys.load_hf_config(model)
    if isinstance(model, PathLike) or (
        isinstance(model, str)
        and model not in llmphys.models
        and (model.endswith(".json") or os.path.isdir(model))  # a checkpoint's folder too
    ):
        return llmphys.load_hf_config(model)
    return llmphys.models[model]


def accelerator_of(hardware: Any) -> Any:
    """An :class:`~llmphys.presets.Accelerator`: as is, or a preset by name."""
    import llmphys
    from llmphys.presets import Accelerator

    return hardware if isinstance(hardware, Accelerator) else llmphys.hardware[hardware]


def interconnect_of(link: Any, hw: Any) -> Any:
    """An interconnect: as is, by name, or (``None``) the usual link of the accelerator ``hw``
    (refused, saying what to give, when it has none on record)."""
    import llmphys
    from llmphys.interconnect import Interconnect

    if isinstance(link, Interconnect):
        return link
    if link is None:
        if hw.interconnect is None:
            raise InputError(
                f"Scenario: {hw.display_name} has no usual interconnect on record; a layout "
                f"over several GPUs needs interconnect=... ({', '.join(llmphys.interconnects)})"
            )
        link = hw.interconnect
    return llmphys.interconnects[link]


def check_layout(
    model: Any, layout: Mapping[str, float], values: Mapping[str, float] | None = None
) -> int | None:
    """Refuse a layout ``model`` cannot take; the layers of the most loaded pipeline stage,
    ceil(L / n_PP) (None for a model without a layer count).

    n_TP must divide the query heads, and divide the KV heads or be a multiple of them (a KV
    head is then replicated; MLA has no KV heads to divide); n_EP above 1 needs experts, whole
    ones on each GPU; n_PP at most the layers.  ``values`` are the model's values as the
    scenario has them (a head or layer count the user changed), by default its config's.
    """
    from llmphys.sizing.layouts import tensor_parallel_degrees

    v = model.values if values is None else values
    name = model.display_name
    tp, pp, ep = (int(layout[k]) for k in ("tp", "pp", "ep"))
    heads = int(v.get("n_heads", 0))
    # the degrees of the model as the scenario has it (its heads as changed)
    as_given = SimpleNamespace(attention=model.attention, values=v)
    degrees = tensor_parallel_degrees(as_given, max(tp, 8))
    if tp > 1 and heads and tp not in degrees:
        kv = "" if model.attention == "MLA" else f" and {int(v['n_kv_heads'])} KV heads"
        allowed = ", ".join(map(str, degrees))
        raise InputError(
            f"Scenario: n_TP = {tp} does not split the {heads} query heads{kv} of {name} "
            f"evenly (n_TP up to {max(tp, 8)} it allows: {allowed})"
        )
    if ep > 1:
        experts = v.get("n_experts")
        if not model.is_moe or experts is None:
            raise InputError(
                f"Scenario: n_EP = {ep}, but {name} has no experts to spread; use tp= or pp="
            )
        if int(experts) % ep:
            raise InputError(
                f"Scenario: n_EP = {ep} does not divide the {int(experts)} routed experts of "
                f"{name}: each GPU holds whole experts"
            )
    layers = v.get("layers")
    if layers is None:
        return None
    if pp > layers:
        raise InputError(
            f"Scenario: n_PP = {pp:g} is more than the {layers:g} layers of the model: a stage "
            "would be empty"
        )
    return int(stage_layers(layers, pp))


def weight_precisions(model: Any, weights: Any) -> dict[str, tuple[Any, str]]:
    """``{symbol: (precision, source)}`` of the three weight classes for a Scenario's
    ``weights``: None (the precisions the model was released in), one precision for all
    (``"fp8"`` or bytes per parameter), or a dict over :data:`WEIGHT_CLASSES` (``{"experts":
    "mxfp4", "body": "bf16"}``; a class left out keeps the released precision)."""
    released = model.precisions
    if weights is None:
        how = f"released precision: {model.precision_source}"
        return {n: (released[n], how) for n in WEIGHT_CLASSES.values()}
    if isinstance(weights, Mapping):
        unknown = [k for k in weights if k not in WEIGHT_CLASSES]
        if unknown:
            raise InputError(
                f"Scenario: weights has no class {unknown[0]!r} (classes: "
                f"{', '.join(WEIGHT_CLASSES)})"
            )
        out = {}
        for key, name in WEIGHT_CLASSES.items():
            if key in weights:
                value = weights[key]
                shown = f"precision {value}" if isinstance(value, str) else "precision"
                out[name] = (value, f"{shown} ({key})")
            else:
                out[name] = (released[name], f"released precision: {model.precision_source}")
        return out
    shown = f"precision {weights}" if isinstance(weights, str) else "precision"
    return {name: (weights, shown) for name in WEIGHT_CLASSES.values()}
