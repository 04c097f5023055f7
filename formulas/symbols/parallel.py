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

from llmphys.engine.glossary import Entry, glossary
from llmphys.symbols import architecture  # noqa: F401  (architecture symbols come first)

__all__ = ["PARALLEL"]

# fmt: off
PARALLEL: tuple[Entry, ...] = (
    # ------------------------------------------------------------------ degrees
    Entry("tp", r"n_{\mathrm{TP}}", "n_TP", "",
          "tensor-parallel degree: GPUs that split every attention and feed-forward matrix "
          "of a layer (attention by heads)",
          integer=True, default=2, range=(1, 64)),
    Entry("pp", r"n_{\mathrm{PP}}", "n_PP", "",
          "pipeline-parallel degree: stages the layers are split into, run one after another",
          integer=True, default=2, range=(1, 128)),
    Entry("ep", r"n_{\mathrm{EP}}", "n_EP", "",
          "expert-parallel degree: GPUs of a stage the routed experts are spread over, whole "
          "experts per GPU (above n_TP, attention runs data-parallel on n_EP / n_TP groups)",
          integer=True, default=2, range=(1, 256)),
    Entry("n_microbatches", r"n_{\mathrm{mb}}", "n_mb", "",
          "micro-batches the batch is split into, so that pipeline stages work at once",
          integer=True, default=1, range=(1, 1024)),
    # ------------------------------------------------------------------ interconnect
    Entry("link_bandwidth", r"\mathit{BW}_{\mathrm{link}}", "BW_link", "byte/second",
          "interconnect bandwidth of one GPU in one direction (NVLink 4: 450 GB/s of the "
          "900 GB/s counted over both directions)",
          default=300e9, range=(1e9, 2e12)),
    Entry("link_latency", r"\alpha_{\mathrm{link}}", "α_link", "second",
          "latency of one hop on the interconnect: one step of a collective or one "
          "point-to-point send",
          domain="nonnegative", default=0.6e-6, range=(1e-7, 1e-2)),
    Entry("message_bytes", r"D_{\mathrm{msg}}", "D_msg", "byte",
          "bytes each GPU contributes to one collective or sends in one point-to-point transfer",
          default=16384, range=(1, 1e10)),
    Entry("comm_overlap", r"f_{\mathrm{ov}}", "f_ov", "",
          "fraction of the communication time hidden behind compute (0: none, 1: all)",
          domain="unit_interval", default=0, range=(0, 1)),
)
# fmt: on

for _entry in PARALLEL:
    glossary.add(_entry)
