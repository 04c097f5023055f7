"""The registry's build: the cyclic garbage collector pauses while ``import llmphys`` defines
its formulas, and resumes (if it was on) when the package has loaded.

Building the registry allocates some 10^5 SymPy objects that live as long as the process; the
collector's passes over them while they are made find nothing to free and took a third of the
import's own time (benchmarks/run.py, section 4).
"""

from __future__ import annotations

import gc

_WAS_ON = gc.isenabled()
gc.disable()


def done() -> None:
    """Resume collecting, as it was before the import."""
    if _WAS_ON:
        gc.enable()
