"""What the sizing page shows, without widgets: its settings, its figures and its questions,
each a figure or a question of one :class:`llmphys.Scenario`.

The page's controls hold numbers in glossary units; :func:`scenario_of` turns them into the
deployment (the one place inputs are resolved is the Scenario: the page never fills a
formula's inputs itself).  Every figure follows the layout: on n_TP GPUs the memory is the
layout's per GPU (what stays replicated counted on each), decode is the layout's step with its
all-reduces, prefill is split over the tensor-parallel group.

>>> import llmphys as F
>>> s = scenario_of(F.models["llama-3.1-70b"], F.hardware["h100-sxm"], tp=2)
>>> print(f"{value(s, FIGURES['tokens_per_second_per_user']):.4g~P}")
31 tok/s
>>> print(value(s, FIGURES["fewest_gpus"]).n_gpus)
2
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from llmphys.engine import glossary
from llmphys.errors import InputError
from llmphys.scenario import DEFAULTS, Scenario

__all__ = [
    "ASSUMPTIONS",
    "FIGURES",
    "LAYOUT",
    "QUESTIONS",
    "SETTINGS",
    "Figure",
    "Question",
    "derivation",
    "number_of",
    "read_config",
    "scenario_of",
    "unknowns",
    "upload_name",
    "value",
]

#: The settings shown as the main controls, in page order (glossary symbols).
SETTINGS: tuple[str, ...] = ("bytes_per_param", "kv_bytes", "prompt_len", "new_tokens", "batch",
                             "tp", "pp", "ep", "price_per_gpu_hour")  # fmt: skip

#: the layout's degrees among the settings (a Scenario's own arguments)
LAYOUT: tuple[str, ...] = ("tp", "pp", "ep")

#: The assumptions (folded), reset to the chosen assumption set's values.
ASSUMPTIONS: tuple[str, ...] = (
    "workspace_fraction",
    "utilization",
    "bw_utilization",
    "overhead",
    "flash_attention",
    "causal_factor",
    "prompt_logprobs",
    "act_bytes",
)

#: Where each setting starts: the Scenario's defaults (the CLI and the Python API start there).
START: Mapping[str, float] = MappingProxyType(
    {
        "prompt_len": float(DEFAULTS["prompt_len"]),
        "new_tokens": float(DEFAULTS["output_len"]),
        "batch": float(DEFAULTS["batch"]),
        "tp": float(DEFAULTS["tp"]),
        "pp": float(DEFAULTS["pp"]),
        "ep": float(DEFAULTS["ep"]),
        # an example price (the glossary's), not a quote: the page asks for the user's own
        "price_per_gpu_hour": float(glossary["price_per_gpu_hour"].default or 0),
    }
)


@dataclass(frozen=True)
class Figure:
    """One figure of the page: a formula of the scenario (``kind="value"``), the answer of a
    solve of ``memory_per_gpu`` for ``unknown`` at one GPU's capacity (``"solve"``), or the
    fewest GPUs' layout (``"layout"``)."""

    key: str
    label: str
    formula: str
    kind: str = "value"
    unknown: str | None = None

    @property
    def is_question(self) -> bool:
        return self.kind != "value"


def _by(field: str, *items: Any) -> Mapping[str, Any]:
    """``items`` as a read-only table keyed by their ``field``, in the order given."""
    return MappingProxyType({getattr(item, field): item for item in items})


#: The figures of the page, by key, in page order.
FIGURES: Mapping[str, Figure] = _by(
    "key",
    Figure("weight_bytes", "weights (all GPUs)", "weight_bytes"),
    Figure("kv_cache_bytes", "KV cache (all GPUs)", "kv_cache_bytes"),
    Figure("workspace_bytes", "workspace (all GPUs)", "workspace_bytes"),
    Figure("total_vram", "total (all GPUs)", "total_vram"),
    Figure("memory_per_gpu", "per GPU", "memory_per_gpu"),
    Figure(
        "largest_context",
        "largest context per sequence",
        "memory_per_gpu",
        "context",
        "seq_len",
    ),
    Figure("largest_batch", "largest batch that fits", "memory_per_gpu", "solve", "batch"),
    Figure("fewest_gpus", "fewest GPUs that hold it", "memory_per_gpu", "layout"),
    Figure(
        "tokens_per_second_per_user",
        "decode speed per user",
        "tokens_per_second_per_user",
    ),
    Figure(
        "tokens_per_second_per_gpu",
        "decode throughput per GPU",
        "tokens_per_second_per_gpu",
    ),
    Figure("ttft", "time to first token", "ttft"),
    Figure("tpot", "time per output token", "tpot"),
    Figure("e2e_latency", "end-to-end latency", "e2e_latency"),
    Figure(
        "cost_per_million_tokens",
        "price per million output tokens",
        "cost_per_million_tokens",
    ),
    Figure(
        "cost_per_million_input_tokens",
        "price per million input tokens",
        "cost_per_million_input_tokens",
    ),
    Figure("energy_per_token", "energy per output token (at TDP)", "energy_per_token"),
)


#: The figures shown twice: expected (the chosen assumption set, ``typical`` by default) and,
#: beside it, the roofline bound of the same deployment (``ideal``, :meth:`Scenario.bound`).
BOUNDED: tuple[str, ...] = (
    "tokens_per_second_per_user",
    "tokens_per_second_per_gpu",
    "ttft",
    "tpot",
    "e2e_latency",
    "cost_per_million_tokens",
    "cost_per_million_input_tokens",
    "energy_per_token",
)


@dataclass(frozen=True)
class Question:
    """A formula the "solve for" section can be asked about, with its usual bound."""

    formula: str
    label: str
    bound: str


#: The formulas of the "solve for" section, by formula name.
QUESTIONS: Mapping[str, Question] = _by(
    "formula",
    Question("memory_per_gpu", "memory per GPU", "at_most"),
    Question("ttft", "time to first token", "at_most"),
    Question("tpot", "time per output token", "at_most"),
    Question("tokens_per_second_per_user", "decode tokens/s per user", "at_least"),
    Question("tokens_per_second_per_gpu", "decode tokens/s per GPU", "at_least"),
)


def scenario_of(
    model: Any,
    accelerator: Any,
    precision: str = "bf16",
    assumptions: str = DEFAULTS["assumptions"],
    interconnect: str | None = None,
    **settings: float,
) -> Scenario:
    """The deployment the page's controls describe: ``settings`` are numbers in glossary
    units (:data:`SETTINGS` and :data:`ASSUMPTIONS`); an assumption equal to the set's value
    keeps the set's provenance, another is the user's."""
    import llmphys

    unknown = [n for n in settings if n not in (*SETTINGS, *ASSUMPTIONS)]
    if unknown:
        raise InputError(
            f"sizing app: {unknown[0]!r} is not a setting (settings: "
            f"{', '.join((*SETTINGS, *ASSUMPTIONS))})"
        )
    base = llmphys.assumption_sets[assumptions]
    kwargs: dict[str, Any] = {"compute": precision, "assumptions": base}
    given = {**START, **settings}
    for arg, name in (("weights", "bytes_per_param"), ("kv", "kv_bytes"), ("act", "act_bytes")):
        if name in given:
            kwargs[arg] = given.pop(name)
    for name in ("prompt_len", "batch", "new_tokens", *LAYOUT):
        kwargs[name] = given.pop(name)
    at_compute = base.at(precision)[0]
    overrides = {n: v for n, v in given.items() if at_compute.get(n) != v}
    return Scenario.from_values(
        model, accelerator, interconnect=interconnect, **kwargs, **overrides
    )


def value(s: Scenario, figure: Figure) -> Any:
    """The figure's value: a quantity, a :class:`~llmphys.Solution` (``"solve"``), the largest
    context with the limit that binds (``"context"``), or the :class:`~llmphys.Scenario` of the
    fewest GPUs (``"layout"``)."""
    if figure.kind == "value":
        return s.evaluate(figure.formula)
    if figure.kind == "solve":
        return s.solve(figure.unknown or "")
    if figure.kind == "context":
        return s.largest_context()
    from llmphys.sizing import fewest_gpus_layout

    return fewest_gpus_layout(s)


def number_of(figure: Figure, result: Any) -> float | None:
    """A figure's :func:`value` as a plain number: the formula's unit, GPUs for the layout,
    the answer of a solve; None for no result."""
    if result is None:
        return None
    if figure.kind == "layout":
        return float(result.n_gpus)
    if figure.kind in ("solve", "context"):
        return float(result.value.magnitude)
    return float(result.magnitude)


def derivation(s: Scenario, figure: Figure) -> Any:
    """The worked derivation of a value figure; of the fewest GPUs, the memory per GPU of
    that layout (a solve's derivation is its Solution)."""
    if figure.kind == "layout":
        best = value(s, figure)
        return best.derive("memory_per_gpu")
    return s.derive(figure.formula)


def unknowns(s: Scenario, name: str) -> list[str]:
    """The inputs formula ``name`` can be solved for here: the settings first, then the
    assumptions, the accelerator's and the model's values."""
    names = list(s.values_for(name))
    first = [*SETTINGS, "seq_len", *ASSUMPTIONS]
    return sorted(names, key=lambda n: first.index(n) if n in first else len(first))


def read_config(name: str, content: bytes) -> Any:
    """The :class:`~llmphys.presets.Model` of an uploaded ``config.json`` (its file ``name``
    and bytes), read as a file from disk is (:func:`llmphys.hf_config.parse_config`, then
    :func:`llmphys.load_hf_config`).  Anything else raises :class:`~llmphys.ConfigError`
    saying what is wrong with the file.

    >>> try:  # a refusal: its type and message
    ...     read_config("config.json", b'{"model_type": "llama"')
    ... except Exception as error:
    ...     print(f"{type(error).__name__}: {error}")
    ConfigError: 'config.json' is not valid JSON (Expecting ',' delimiter: \
line 1 column 23 (char 22))
    """
    from llmphys.hf_config import load_hf_config, parse_config

    fields = parse_config(name, content)
    model = load_hf_config(fields)
    return load_hf_config(fields, name=upload_name(fields, model))


def upload_name(fields: Mapping[str, Any], model: Any) -> str:
    """What an uploaded config is called on the page: its checkpoint's name
    (``_name_or_path``), else its architecture and size (``Qwen2ForCausalLM 7.62B``), never
    only its family: every HF config file is called ``config.json``, so the file name says
    nothing."""
    path = str(fields.get("_name_or_path") or fields.get("name_or_path") or "").strip("/")
    if path:
        return path
    architectures = fields.get("architectures") or [fields.get("model_type", "model")]
    size = float(model.values.get("params", 0))
    return f"{architectures[0]} {size / 1e9:.3g}B" if size else str(architectures[0])
