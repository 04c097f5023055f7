"""The Pareto set of two objectives: the rows of a table that no other row beats on both.

One helper for the throughput / interactivity frontier (``llmphys.frontier``) and the
design-space search (``llmphys.search``, per chunk and merged).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["pareto_front"]


def pareto_front(frame: Any, objectives: Sequence[tuple[str, str]]) -> Any:
    """The rows of ``frame`` (a DataFrame) no other row beats on both ``objectives`` (each
    ``(column, "min" | "max")``), best first on the first; ties kept once; the index kept.

    >>> import pandas as pd
    >>> t = pd.DataFrame({"user": [10, 20, 30, 5], "gpu": [900, 600, 200, 100]})
    >>> pareto_front(t, [("user", "max"), ("gpu", "max")]).index.tolist()
    [2, 1, 0]
    """
    (a, da), (b, db) = objectives
    ka = frame[a].to_numpy() if da == "min" else -frame[a].to_numpy()
    kb = frame[b].to_numpy() if db == "min" else -frame[b].to_numpy()
    keep, best = [], np.inf
    for i in np.lexsort((kb, ka)):
        if kb[i] < best:
            keep.append(i)
            best = kb[i]
    return frame.iloc[keep]
