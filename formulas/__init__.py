"""llmphys: the physics of LLM inference, every formula defined once.

>>> import llmphys as F
>>> print(F.weight_bytes(params=70e9, bytes_per_param="bf16").to("GB"))
140.0 GB
"""

from __future__ import annotations

if __name__ != "llmphys":  # pragma: no cover - exercised by a subprocess test
    raise ImportError(
        f"this package must be imported as 'llmphys', not {__name__!r}: install it "
        "(pip install -e .) and use 'import llmphys'. Importing its folder under another "
        "name would build a second unit registry, whose quantities pint refuses to mix."
    )

# first: the garbage collector pauses while the registry is built (see the module)
from llmphys import _building  # noqa: I001

# the physics: importing a topic registers its formulas (each imports the topics it uses)
from llmphys import (  # noqa: F401
    attention,
    attention_free,
    bandwidth,
    chunked_prefill,
    compute,
    disaggregation,
    economics,
    efficiency,
    errors,
    features,
    latency,
    memory,
    moe,
    moe_params,
    mtp_modules,
    output_head,
    parallel,
    parallel_time,
    param_counts,
    prefix_cache,
    recurrent,
    recurrent_layouts,
    recurrent_state,
    roofline,
    sparse_attention,
    speculative,
    symbols,
    weight_precision,
)
from llmphys.engine import Formula, glossary, registry
from llmphys.errors import (
    ConfigError,
    FormulaDefinitionError,
    InfeasibleError,
    InputError,
    LlmphysError,
    NotUniqueError,
    UnitError,
    UnknownNameError,
    UnsafeFormulaError,
)
from llmphys.precisions import PRECISIONS
from llmphys.units import Q_, ureg

_building.done()

__all__ = [
    "PRECISIONS",
    "ConfigError",
    "Formula",
    "FormulaDefinitionError",
    "InfeasibleError",
    "InputError",
    "LlmphysError",
    "NotUniqueError",
    "Q_",
    "UnitError",
    "UnknownNameError",
    "UnsafeFormulaError",
    "Scenario",
    "Solution",
    "assumption_sets",
    "check_units",
    "define",
    "elasticities",
    "errors",
    "glossary",
    "hardware",
    "interconnects",
    "load_hf_config",
    "models",
    "registry",
    "seed_vs_real",
    "sizing",
    "solve",
    "ureg",
    "user_registry",
    *registry,
]


# imported on first use, to keep `import llmphys` light (the parser, the user registry)
_LAZY = {
    "check_units": "llmphys.check",
    "define": "llmphys.user",
    "user_registry": "llmphys.user",
    "solve": "llmphys.engine.solve",
    "Scenario": "llmphys.scenario",
    "assumption_sets": "llmphys.presets.assumptions",
    "Solution": "llmphys.engine.solution",
    "elasticities": "llmphys.engine.elasticities",
    "sizing": "llmphys.sizing",
    "models": "llmphys.presets",
    "hardware": "llmphys.presets",
    "interconnects": "llmphys.interconnect",
    "presets": "llmphys.presets",
    "load_hf_config": "llmphys.hf_config",
    "compare": "llmphys.compare",
    "frontier": "llmphys.serving",
    "search": "llmphys.design_space",
    "SearchResult": "llmphys.design_space",
    "Frontier": "llmphys.serving",
    "disaggregate": "llmphys.pd_sizing",
    "Disaggregation": "llmphys.pd_sizing",
    "seed_vs_real": "llmphys.compare",
}


def __getattr__(name: str) -> Formula:
    """``llmphys.<formula name>``: every registered formula, by name."""
    if name in _LAZY:
        import importlib

        module = importlib.import_module(_LAZY[name])
        value = module if _LAZY[name] == f"llmphys.{name}" else getattr(module, name)
        globals()[name] = value
        return value
    if name in registry:
        return registry[name]
    raise AttributeError(f"module 'llmphys' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(registry))
