"""Parallelism symbols: how a model is laid out over several accelerators and what links them.

The seed lists distributed inference as "not modeled", yet its own examples need it (Llama 3.1
70B "fits on 2x A100", DeepSeek-V3's 1,342 GB against 8x H100).  A layout is described by three
degrees and the interconnect:

* ``tp``: tensor parallelism splits every attention and feed-forward matrix of a layer over
  n_TP GPUs (attention by heads, the feed-forward block by columns and rows);
* ``pp``: pipeline parallelism gives each of n_PP stages a contiguous slice of the layers;
* ``ep``: expert parallelism spreads the routed experts over n_EP GPUs of a stage, whole
  experts per GPU.  Up to n_TP it reuses the tensor-parallel GPUs (same bytes per GPU); above
  it, attention runs data-parallel on n_EP / n_TP groups, each with its own share of the batch
  (the DeepSeek-V3 serving layout);
* the interconnect: bandwidth per GPU and direction, and a per-hop latency (the alpha-beta
  model of collective communication).

Defaults: a 2 x 2 layout (n_TP = n_PP = 2, four of the glossary's A100 80GB), n_EP = 2 over the
same GPUs, one micro-batch (the default batch of 1 cannot be split), NVLink 3 (the A100's:
300 GB/s per direction) with NCCL's per-step NVLink latency, and no overlap of communication
with compute.  A degree of 1 removes its communication (an all-reduce over one GPU moves
nothing, one stage sends nothing), which is why the defaults are 2: every formula then has a
non-zero value to show.  Whole-model answers (the seed's "2x A100") come from
:mod:`llmphys.sizing.layouts`, not from these defaults.
"""

from __future__ import annotations

from llmphys.symbols import architecture  # noqa: F401  (architecture symbols come first)
from llmphys.symbols.table import declare

__all__ = ["PARALLEL"]

#: Parallelism symbols, in reading order: the table parallel.toml beside this module.
PARALLEL = declare("parallel.toml")
