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

# the physics: importing a topic registers its formulas (each imports the topics it uses)
from llmphys import (  # noqa: F401
    bandwidth,
    compute,
    errors,
    latency,
    memory,
    moe,
    symbols,
)
from llmphys.engine import Formula, glossary, registry
from llmphys.errors import (
    ConfigError,
    FormulaDefinitionError,
    InfeasibleError,
    InputError,
    LlmphysError,
    UnitError,
    UnknownNameError,
    UnsafeFormulaError,
)
from llmphys.precisions import PRECISIONS
from llmphys.units import Q_, ureg

__all__ = [
    "PRECISIONS",
    "ConfigError",
    "Formula",
    "FormulaDefinitionError",
    "InfeasibleError",
    "InputError",
    "LlmphysError",
    "Q_",
    "UnitError",
    "UnknownNameError",
    "UnsafeFormulaError",
    "errors",
    "glossary",
    "registry",
    "ureg",
    *registry,
]


def __getattr__(name: str) -> Formula:
    """``llmphys.<formula name>``: every registered formula, by name."""
    if name in registry:
        return registry[name]
    raise AttributeError(f"module 'llmphys' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(registry))
