"""Architecture symbols: what a real model's ``config.json`` says beyond the seed's five numbers.

The seed describes a model by its parameter count, layers, hidden width and (implicitly) full
multi-head attention.  Real architectures need more: the vocabulary and FFN widths (to count
parameters), whether the output head is tied to the input embedding, the experts of a mixture
of experts, the low-rank widths of multi-head latent attention (MLA) and the sliding windows of
interleaved local/global attention.  Each is defined here once; the seed's own architecture
symbols (``layers``, ``hidden``, ``n_heads``, ``n_kv_heads``, ``head_dim``) are in ``seed``.

Defaults are reference values from the published configs (``llmphys.models``): vocabulary
and FFN width of Llama 3.1 70B (the seed's running example), experts and MLA ranks of
DeepSeek-V3 (the seed's MoE example), the window pattern of Gemma-3-27B.  Display symbols
follow the DeepSeek-V2 technical report for MLA (d_c, d_c', d_h^R) and the usual transformer
notation otherwise.

Widths are in ``element`` (like ``hidden`` and ``head_dim``); counts of layers, experts and
matrices are plain numbers; a window is a number of tokens.
"""

from __future__ import annotations

from llmphys.symbols import seed  # noqa: F401  (the seed's symbols come first in reading order)
from llmphys.symbols.table import declare

__all__ = ["ARCHITECTURE"]

#: Architecture symbols, in reading order: the table architecture.toml beside this module.
ARCHITECTURE = declare("architecture.toml")
