"""What the sizing app computes, without widgets: one scenario and the figures of the page.

A :class:`Scenario` is a model (a preset or an uploaded ``config.json``), an accelerator at a
compute precision, and the app's settings (weight and KV precisions, context, batch, GPU count
and the efficiency assumptions), each in its glossary unit.  Every figure is a registry formula
in the model's variant (``model.formula(name)``):

* values go through the formula's compiled numpy function (``formula.numeric()``, after the
  same validation as a call: ``formula.prepare()``): no SymPy work per change;
* the limits (largest context, largest batch, fewest GPUs) are :mod:`llmphys.sizing` questions
  of ``memory_per_gpu`` with the accelerator's capacity as the budget;
* a derivation is ``formula.derive(...)`` (or the :class:`~llmphys.Solution` itself), built
  only when asked for.

One "context" setting feeds every question's context: ``seq_len`` (tokens cached per sequence)
for memory, ``prompt_len`` for the time to first token (the whole context is prefilled as the
prompt) and ``avg_seq_len`` for decode (the step of a token attending to the full context: the
slowest step of the request).  Decode and TTFT are one accelerator's roofline; the GPU count
splits the memory evenly (``memory_per_gpu``).  The parallelism formulas (per-GPU memory with
what stays replicated, communication, ``llmphys.parallel_sizing``) are not on the page yet.

>>> import llmphys as F
>>> s = Scenario(F.models["llama-3.1-70b"], F.hardware["h100-sxm"], seq_len=32768)
>>> print(f"{s.value(FIGURES['kv_cache_bytes']).to('GiB'):.3g~P}")
10 GiB
>>> print(s.value(FIGURES["fewest_gpus"]).value)
2
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pint

from llmphys.engine.formula import Formula, registry
from llmphys.engine.values import coerce
from llmphys.errors import ConfigError, InputError
from llmphys.units import Q_

__all__ = [
    "ASSUMPTIONS",
    "CONTEXTS",
    "FIGURES",
    "QUESTIONS",
    "SETTINGS",
    "Figure",
    "Question",
    "Scenario",
    "read_config",
]

#: The settings shown as the main controls, in page order.
SETTINGS: tuple[str, ...] = ("bytes_per_param", "kv_bytes", "seq_len", "batch", "n_gpus")

#: The efficiency assumptions (glossary defaults: the seed's), shown folded.
ASSUMPTIONS: tuple[str, ...] = (
    "workspace_fraction",
    "utilization",
    "bw_utilization",
    "overhead",
    "flash_attention",
    "causal_factor",
    "act_bytes",
)

#: The context of each kind of question, all fed by the one "context" setting (``seq_len``).
CONTEXTS: tuple[str, ...] = ("prompt_len", "avg_seq_len")


@dataclass(frozen=True)
class Figure:
    """One figure of the page: a formula's value, or a sizing question of it.

    ``key`` names the figure (and its DOM hook ``llmphys-<key>``); ``formula`` is the registry
    formula (the model's variant is used); ``given`` names parts given directly (the decode
    context); ``question`` is the :mod:`llmphys.sizing` function asked of the formula, with
    the accelerator's capacity as the budget, and ``unknown`` its unknown.
    """

    key: str
    label: str
    formula: str
    given: tuple[str, ...] = ()
    question: str | None = None
    unknown: str | None = None

    @property
    def is_question(self) -> bool:
        return self.question is not None


_DECODE = ("avg_seq_len",)

#: The figures of the page, by key, in page order.
FIGURES: Mapping[str, Figure] = MappingProxyType(
    {
        f.key: f
        for f in (
            Figure("weight_bytes", "weights", "weight_bytes"),
            Figure("kv_cache_bytes", "KV cache", "kv_cache_bytes"),
            Figure("workspace_bytes", "workspace", "workspace_bytes"),
            Figure("total_vram", "total", "total_vram"),
            Figure("memory_per_gpu", "per GPU", "memory_per_gpu"),
            Figure(
                "largest_context",
                "largest context that fits",
                "memory_per_gpu",
                question="largest_context",
                unknown="seq_len",
            ),
            Figure(
                "largest_batch",
                "largest batch that fits",
                "memory_per_gpu",
                question="largest_batch",
                unknown="batch",
            ),
            Figure(
                "fewest_gpus",
                "fewest GPUs that hold it",
                "memory_per_gpu",
                question="fewest_gpus",
                unknown="n_gpus",
            ),
            Figure(
                "tokens_per_second_per_user",
                "decode speed per user (bound)",
                "tokens_per_second_per_user",
                given=_DECODE,
            ),
            Figure(
                "tokens_per_second_per_gpu",
                "decode throughput (bound)",
                "tokens_per_second_per_gpu",
                given=_DECODE,
            ),
            Figure("ttft", "time to first token", "ttft"),
        )
    }
)


@dataclass(frozen=True)
class Question:
    """A formula the "solve for" section can be asked about, with its usual bound."""

    formula: str
    label: str
    bound: str
    given: tuple[str, ...] = ()


#: The formulas of the "solve for" section, by formula name.
QUESTIONS: Mapping[str, Question] = MappingProxyType(
    {
        q.formula: q
        for q in (
            Question("memory_per_gpu", "memory per GPU", "at_most"),
            Question("ttft", "time to first token", "at_most"),
            Question("tokens_per_second_per_user", "decode tokens/s per user", "at_least", _DECODE),
            Question("tokens_per_second_per_gpu", "decode tokens/s per GPU", "at_least", _DECODE),
        )
    }
)


def _defaults() -> dict[str, float]:
    out = {}
    for name in (*SETTINGS, *ASSUMPTIONS):
        entry = registry.glossary[name]
        if entry.default is None:  # pragma: no cover - every setting has a glossary default
            raise InputError(f"sizing app: the glossary gives no default for {name!r}")
        out[name] = float(entry.default)
    return out


class Scenario:
    """A model on an accelerator with the app's settings; computes the page's figures.

    ``settings`` are numbers in glossary units or anything a formula call takes (quantities,
    precision names); the ones left out take their glossary defaults.
    """

    def __init__(
        self, model: Any, accelerator: Any, precision: str = "bf16", **settings: Any
    ) -> None:
        self.model = model
        self.accelerator = accelerator
        self.precision = precision
        unknown = [n for n in settings if n not in (*SETTINGS, *ASSUMPTIONS)]
        if unknown:
            raise InputError(
                f"sizing app: {unknown[0]!r} is not a setting (settings: "
                f"{', '.join((*SETTINGS, *ASSUMPTIONS))})"
            )
        gloss = registry.glossary
        values = _defaults()
        for name, value in settings.items():
            values[name] = float(coerce(gloss[name], value, "sizing app"))
        self.settings: Mapping[str, float] = MappingProxyType(values)
        pool = {
            name: float(coerce(gloss[name], q, f"accelerator '{accelerator.name}'"))
            for name, q in accelerator.values(precision).items()
        }
        pool.update(model.values)
        pool.update(values)
        for name in CONTEXTS:
            pool[name] = values["seq_len"]
        self.pool: Mapping[str, float] = MappingProxyType(pool)

    @property
    def capacity(self) -> pint.Quantity:
        """One accelerator's memory (what the driver reports), the budget of the limits."""
        return Q_(self.pool["gpu_memory"], registry.glossary["gpu_memory"].pint_unit)

    def formula(self, name: str) -> Formula:
        """The registry formula ``name`` in this model's variant."""
        return self.model.formula(name)

    def inputs(
        self, formula: Formula, given: tuple[str, ...] = (), parts: Mapping[str, Any] = {}
    ) -> dict[str, Any]:
        """The values ``formula`` takes: the parts ``given`` (from the scenario: the decode
        context) and ``parts`` (values of their own) given directly, the rest from the pool."""
        _, names = formula.numeric(frozenset((*given, *parts)))
        wanted = [n for n in dict.fromkeys((*given, *names)) if n not in parts]
        missing = [n for n in wanted if n not in self.pool]
        if missing:
            entry = registry.glossary[missing[0]]
            raise InputError(
                f"{formula.name}: no value for {missing[0]!r} ({entry.text}: {entry.meaning}); "
                f"neither the model {self.model.display_name!r} nor the accelerator gives it"
            )
        return {**{n: self.pool[n] for n in wanted}, **parts}

    def evaluate(self, name: str, given: tuple[str, ...] = (), **parts: Any) -> pint.Quantity:
        """Formula ``name`` (this model's variant) through its compiled function; ``parts``
        are parts given a value of their own (``total_vram=`` to split one part per GPU)."""
        f = self.formula(name)
        keep, converted = f.prepare(self.inputs(f, given, parts))
        fn, names = f.numeric(keep)
        return Q_(fn(*(converted[n] for n in names)), f.unit)

    def value(self, figure: Figure) -> Any:
        """The figure's value: a quantity, or a :class:`~llmphys.Solution` for a question."""
        if not figure.is_question:
            return self.evaluate(figure.formula, figure.given)
        from llmphys import sizing

        f = self.formula(figure.formula)
        values = self.inputs(f, figure.given)
        values.pop(figure.unknown or "", None)
        ask = getattr(sizing, figure.question or "")
        return ask(self.capacity, formula=f, **values)

    def derivation(self, figure: Figure) -> Any:
        """The worked derivation of a value figure (a question's is its Solution)."""
        f = self.formula(figure.formula)
        return f.derive(**self.inputs(f, figure.given))

    def solve(self, name: str, unknown: str, target: Any, bound: str = "at_most") -> Any:
        """Solve formula ``name`` (:data:`QUESTIONS`) for ``unknown`` so that it meets
        ``target`` (a quantity, or text as typed: ``"2 s"``), with every other input as now."""
        import llmphys
        from llmphys.engine.parse import parse_value

        question = QUESTIONS[name]
        f = self.formula(name)
        if isinstance(target, str):
            target = parse_value(target, f.entry, "target")
        values = self.inputs(f, question.given)
        if unknown not in values:
            raise InputError(
                f"solve {name}: {unknown!r} is not one of its inputs here ({', '.join(values)})"
            )
        del values[unknown]
        return llmphys.solve(f, unknown, target=target, bound=bound, **values)

    def unknowns(self, name: str) -> list[str]:
        """The inputs formula ``name`` can be solved for: the settings first, then the
        accelerator's and the model's values."""
        question = QUESTIONS[name]
        names = list(self.inputs(self.formula(name), question.given))
        first = [*SETTINGS, *CONTEXTS, *ASSUMPTIONS]
        return sorted(names, key=lambda n: first.index(n) if n in first else len(first))


#: The largest config.json read (real ones are a few kB).
MAX_CONFIG_BYTES = 1_000_000


def read_config(name: str, content: bytes) -> Any:
    """The :class:`~llmphys.presets.Model` of an uploaded ``config.json`` (its file ``name``
    and bytes): JSON text parsed with :func:`json.loads` (never evaluated), then
    :func:`llmphys.load_hf_config`.  Anything else raises :class:`~llmphys.ConfigError`
    saying what is wrong with the file.

    >>> read_config("config.json", b'{"model_type": "llama"')
    Traceback (most recent call last):
    ...
    llmphys.errors.ConfigError: 'config.json' is not valid JSON (Expecting ',' delimiter: \
line 1 column 23 (char 22))
    """
    import json

    from llmphys.hf_config import load_hf_config

    if len(content) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{name!r} is {len(content):,} bytes: too large for a config.json "
            f"(at most {MAX_CONFIG_BYTES:,})"
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name!r} is not UTF-8 text ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{name!r} is not valid JSON ({exc})") from None
    except RecursionError:
        raise ConfigError(f"{name!r} is nested too deeply to be a config.json") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{name!r} holds a JSON {type(data).__name__}, not an object")
    return load_hf_config(data)
