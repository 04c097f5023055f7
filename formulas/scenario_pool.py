"""What a :class:`~llmphys.Scenario` holds: every input with its value and provenance, filled
in order (glossary defaults, the model, the datasheet, the assumption set, precisions, layout,
workload, interconnect, the user's overrides, what those imply), and the parts given by value.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pint

from llmphys.engine import glossary, registry
from llmphys.engine.coercion import coerce
from llmphys.errors import InputError, UnknownNameError, did_you_mean
from llmphys.features import PREFIX_CACHE
from llmphys.presets.model import COUNTED
from llmphys.scenario_inputs import (
    WEIGHT_CLASSES,
    argument_name,
    interconnect_of,
    weight_precisions,
)
from llmphys.units import Q_

__all__ = [
    "DERIVED",
    "SPECULATION",
    "SWITCHES",
    "Filled",
    "Input",
    "Rule",
    "fill",
    "rederived",
    "rules_for",
    "switched",
]

#: inputs that switch a feature on when a scenario is given them (by keyword, by
#: ``with_values`` or as a sweep's axis): a prefix-cache hit rate prefills the uncached part
SWITCHES: Mapping[str, str] = MappingProxyType({"prefix_hit": PREFIX_CACHE})


def switched(names: Iterable[str], features: Iterable[str] = ()) -> tuple[str, ...]:
    """The features the inputs ``names`` switch on that ``features`` do not have yet."""
    have = set(features)
    return tuple(dict.fromkeys(SWITCHES[n] for n in names if n in SWITCHES
                               and SWITCHES[n] not in have))  # fmt: skip


#: how a scenario may decode speculatively: name -> what drafts
SPECULATION: Mapping[str, str] = MappingProxyType(
    {
        "draft": "a separate draft model (draft_tokens, acceptance_rate, draft_cost_ratio)",
        "mtp": "the model's own multi-token-prediction modules as the draft",
    }
)

def _gpu_count(tp: Any, ep: Any, pp: Any) -> Any:
    """GPUs of a layout, by the registry's ``gpu_count`` (numbers or arrays)."""
    fn, names = registry["gpu_count"].numeric()
    given = {"tp": tp, "ep": ep, "pp": pp}
    return fn(*(given[n] for n in names))


#: How a scenario derives an input from others: (the inputs it comes from, how, its provenance).
Rule = tuple[tuple[str, ...], Callable[..., Any], str]

#: Inputs a scenario derives from others unless they are given: name -> its :data:`Rule`.  The
#: rules take numbers or arrays (a sweep applies them too).
DERIVED: Mapping[str, Rule] = MappingProxyType(
    {
        "seq_len": (
            ("prompt_len", "new_tokens"),
            operator.add,
            "workload: prompt_len + output_len, the context at the last token",
        ),
        "n_gpus": (("tp", "ep", "pp"), _gpu_count, "layout: gpu_count(n_TP, n_EP, n_PP)"),
        "n_microbatches": (
            ("pp", "batch"),
            np.minimum,
            "layout: one micro-batch per pipeline stage (at most the batch)",
        ),
    }
)

def rules_for(m: Any, changed: Iterable[str]) -> dict[str, Rule]:
    """The rules that derive an input of a scenario of model ``m`` from the ``changed`` ones:
    :data:`DERIVED`'s, and the model's parameter counts when an architecture value changed (by
    the model's own variants of ``param_count`` and ``active_param_count``: fewer experts per
    token, fewer active parameters)."""
    changed = set(changed)
    rules = {n: r for n, r in DERIVED.items() if changed.intersection(r[0])}
    if changed.intersection(m.values):
        for name, count in COUNTED.items():
            fn, sources = m.formula(count).numeric()
            touched = [n for n in sources if n in changed]
            if name in m.values and touched:
                how = f"{count} at the changed {', '.join(touched)}"
                rules[name] = (tuple(sources), fn, f"model {m.display_name} ({how})")
    return rules


def rederived(m: Any, values: Mapping[str, Any], changed: Iterable[str],
              given: Iterable[str]) -> dict[str, tuple[Any, str]]:  # fmt: skip
    """What the ``changed`` inputs of ``values`` (numbers or arrays) imply, as the scenario's
    rules derive it: name -> (value, provenance), except the ``given`` names (the user's)."""
    given = set(given)
    return {
        name: (rule(*(values[s] for s in sources)), source)
        for name, (sources, rule, source) in rules_for(m, changed).items()
        if name not in given
    }


#: every input a :data:`DERIVED` rule reads (a scenario applies those rules from the start)
DERIVED_SOURCES = frozenset(s for sources, _, _ in DERIVED.values() for s in sources)

# symbols a scenario's arguments fill (the precisions by name, the workload, the layout)
_PRECISIONS = {"kv": "kv_bytes", "act": "act_bytes"}
_ARCHITECTURE = {"params", "active_params", "layers", "hidden", "n_heads", "n_kv_heads",
                 "head_dim"}  # fmt: skip


@dataclass(frozen=True)
class Input:
    """One input of a scenario: its value in the glossary unit, and where it came from."""

    name: str
    value: float
    source: str

    @property
    def quantity(self) -> pint.Quantity:
        return Q_(self.value, glossary[self.name].pint_unit)

    @property
    def kind(self) -> str:
        """The first word of the source: model, hardware, workload, assumptions, user..."""
        return self.source.split(" ", 1)[0]


def _architecture_symbols() -> set[str]:
    from llmphys.symbols.architecture import ARCHITECTURE

    return _ARCHITECTURE | {e.name for e in ARCHITECTURE}




@dataclass
class Filled:
    """A scenario's inputs (name -> :class:`Input`), the parts given by value, and the link."""

    pool: dict[str, Input]
    parts: dict[str, float] = field(default_factory=dict)
    link: Any = None
    n_gpus: int = 1


def fill(m: Any, hw: Any, compute: str, assumptions: Any, args: Mapping[str, Any],
         overrides: Mapping[str, Any]) -> Filled:  # fmt: skip
    """Every input of a deployment with its provenance: ``args`` are the Scenario's named
    arguments, ``overrides`` its keywords."""
    batch, prompt_len, output_len = args["batch"], args["prompt_len"], args["output_len"]
    weights, interconnect = args["weights"], args["interconnect"]
    where = "Scenario"
    pool: dict[str, Input] = {}

    def put(name: str, value: Any, source: str) -> None:
        value = coerce(glossary[name], value, where)
        if np.ndim(value):
            raise InputError(
                f"{where}: {name} takes one value in a deployment (got {np.size(value)}); "
                f"sweep over several: s.sweep(figure, {name}=[...])"
            )
        pool[name] = Input(name, float(value), source)

    arch = _architecture_symbols()
    for entry in glossary.inputs():
        if entry.default is not None and entry.name not in arch:
            put(entry.name, entry.default, "default (glossary: the seed's running example)")
    for name, value in m.values.items():
        how = f"{name.replace('params', 'param')}_count of its config.json" if name in (
            "params", "active_params") else "config.json"  # fmt: skip
        pool[name] = Input(name, float(value), f"model {m.display_name} ({how})")
    sheet = f"hardware {hw.display_name} (datasheet{', ' + hw.as_of if hw.as_of else ''})"
    for name, q in hw.values(compute).items():
        note = {"peak_flops": f", dense {compute}",
                "board_power": f"; TDP, the most it draws: {hw.tdp_source}"}  # fmt: skip
        put(name, q, sheet + note.get(name, ""))
    values, sources = assumptions.at(compute)
    for name, value in values.items():
        pool[name] = Input(name, value, f"assumptions {assumptions.name} ({sources[name]})")
    for name, (value, source) in weight_precisions(m, weights).items():
        put(name, value, source)
    for arg, name in _PRECISIONS.items():
        value = args[arg]
        put(name, value, f"precision {value}" if isinstance(value, str) else "precision")
    for name in ("tp", "pp", "ep"):
        put(name, args[name], "layout")
    put("batch", batch, "workload")
    put("prompt_len", prompt_len, "workload")
    try:
        put("new_tokens", output_len, "workload (output_len)")
    except InputError as e:  # said under the name the caller gave
        named = f"'{argument_name('new_tokens')}'"
        raise InputError(str(e).replace("'new_tokens'", named)) from None
    layout = {n: pool[n].value for n in ("tp", "pp", "ep")}
    gpus = round(float(_gpu_count(**layout)))
    #: the link between the GPUs (also on one GPU when the accelerator has a usual one,
    #: so that a sweep over the layout has it)
    link = None
    if gpus > 1 or interconnect is not None or hw.interconnect is not None:
        link = interconnect_of(interconnect, hw)
        for name, q in link.values().items():
            put(name, q, f"interconnect {link.display_name} ({link.as_of})")
    # user overrides: glossary inputs, or parts of figures given by value
    parts: dict[str, float] = {}
    for name, value in overrides.items():
        if name in glossary and glossary[name].kind == "input":
            put(name, value, "user")
        elif name in registry:
            f = registry[name]
            parts[name] = float(coerce(f.entry, value, where))
        else:
            known = [e.name for e in glossary.inputs()] + list(registry)
            raise UnknownNameError(
                f"Scenario: {name!r} is neither an input nor a formula"
                f"{did_you_mean(name, known)}",
                name,
            )
    if "bytes_per_param" in overrides:  # the seed's one precision: every weight, unless
        for name in WEIGHT_CLASSES.values():  # a class is given its own as well
            if name not in overrides:
                put(name, overrides["bytes_per_param"], "user (bytes_per_param: all weights)")
    # what the workload and the layout imply, and the model's counts at an architecture value
    # the user changed, unless the user gave them too
    values = {name: found.value for name, found in pool.items()}
    for name, (value, source) in rederived(m, values, [*DERIVED_SOURCES, *overrides],
                                           overrides).items():  # fmt: skip
        put(name, float(value), source)
    if "n_gpus" in overrides and pool["n_gpus"].value != gpus:  # the layout's, not a choice
        raise InputError(
            f"Scenario: n_gpus={pool['n_gpus'].value:g} contradicts the layout (n_TP = "
            f"{layout['tp']:g}, n_PP = {layout['pp']:g}, n_EP = {layout['ep']:g}: {gpus} "
            f"GPU{'s' if gpus != 1 else ''}); give the layout by tp=, pp= and ep="
        )
    speculate(m, args.get("speculative"), overrides, put, pool)
    return Filled(pool, parts, link, gpus)


def speculate(m: Any, how: str | None, overrides: Mapping[str, Any],
              put: Callable[[str, Any, str], None], pool: Mapping[str, Input]) -> None:  # fmt: skip
    """Check the way of speculative decoding; with ``"mtp"`` the draft is the model's MTP
    modules: one drafted token per module, at their cost ratio (unless the user says)."""
    if how is None:
        return
    if how not in SPECULATION:
        raise InputError(
            f"Scenario: speculative={how!r} is not a way of drafting; use one of "
            f"{', '.join(map(repr, SPECULATION))} (or None){did_you_mean(str(how), SPECULATION)}"
        )
    if how != "mtp":
        return
    modules = m.values.get("mtp_layers", 0)
    if not modules:
        raise InputError(
            f"Scenario: speculative='mtp' needs multi-token-prediction modules, and "
            f"{m.display_name} has none (its config.json gives no num_nextn_predict_layers or "
            "mtp field); use speculative='draft' with a draft model's draft_cost_ratio"
        )
    if "draft_tokens" not in overrides:
        put("draft_tokens", modules, f"model {m.display_name}: one token per MTP module")
    if "draft_cost_ratio" not in overrides:
        fn, names = registry["mtp_draft_cost_ratio"].numeric()
        ratio = fn(*(pool[n].value for n in names))
        put("draft_cost_ratio", ratio,
            "mtp_draft_cost_ratio: one block's active weights and the head over the model's")
