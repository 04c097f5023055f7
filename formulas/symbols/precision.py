"""Precision symbols beyond the seed's ``bytes_per_param``: weights stored at several precisions
(routed experts, embeddings and head) and the block-scaled formats' parts (values, shared
scales, group size).  See :mod:`llmphys.weight_precision`."""

from __future__ import annotations

from llmphys.engine.glossary import Entry, glossary
from llmphys.precisions import PRECISIONS
from llmphys.symbols import seed  # noqa: F401  (the seed's symbols come first in reading order)

__all__ = ["PRECISION"]

# fmt: off
PRECISION: tuple[Entry, ...] = (
    Entry("expert_bytes", r"b_{\mathrm{e}}", "b_e", "byte/parameter",
          "bytes per stored weight of the routed experts, when they are kept at another "
          "precision than the rest (gpt-oss: MXFP4 experts, BF16 elsewhere)",
          default=2, range=(0.25, 4), choices=PRECISIONS),
    Entry("embedding_bytes", r"b_{\mathrm{emb}}", "b_emb", "byte/parameter",
          "bytes per stored weight of the input embedding and the output head (quantized "
          "checkpoints keep them in 16 bits)",
          default=2, range=(0.25, 4), choices=PRECISIONS),
    Entry("index_kv_bytes", r"b_{I}", "b_I", "byte/element",
          "bytes per cached indexer-key element of a sparse-attention model (DeepSeek-V3.2's "
          "inference code keeps them in FP8, with one fp32 scale per 128 values not counted)",
          default=1, range=(0.5, 4), choices=PRECISIONS),
    Entry("ssm_state_bytes", r"b_{\mathrm{s}}", "b_s", "byte/element",
          "bytes per element of a recurrent layer's state (config mamba_ssm_cache_dtype: "
          "float32 in Nemotron-H and Qwen3.5; vLLM otherwise keeps the model's dtype)",
          default=4, range=(1, 4), choices=PRECISIONS),
    Entry("element_bytes", r"b_{\mathrm{el}}", "b_el", "byte/parameter",
          "bytes per stored value of a block-scaled format, scales aside (4-bit: 0.5)",
          default=0.5, range=(0.125, 4)),
    Entry("scale_bytes", r"b_{\mathrm{sc}}", "b_sc", "byte",
          "bytes a group of values shares: its scale and any zero point (MXFP4: one 8-bit "
          "scale)",
          domain="nonnegative", default=1, range=(0, 8)),
    Entry("group_size", r"g", "g", "parameter",
          "values sharing one scale (MXFP4: 32; DeepSeek-V3 FP8: a 128 x 128 block)",
          integer=True, default=32, range=(1, 65536)),
)
# fmt: on

for _entry in PRECISION:
    glossary.add(_entry)
