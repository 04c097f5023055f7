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

from llmphys.engine.glossary import Entry, glossary
from llmphys.symbols import seed  # noqa: F401  (the seed's symbols come first in reading order)

__all__ = ["ARCHITECTURE"]

# fmt: off
ARCHITECTURE: tuple[Entry, ...] = (
    # ------------------------------------------------------------------ dense transformer
    Entry("vocab_size", "V", "V", "",
          "vocabulary size: rows of the embedding table (and of an untied output head)",
          integer=True, default=128256, range=(1000, 1e6)),
    Entry("intermediate_size", r"d_{\mathrm{ff}}", "d_ff", "element",
          "inner width of a dense gated feed-forward block (gate, up and down projections)",
          integer=True, default=28672, range=(256, 1e5)),
    Entry("embedding_matrices", r"n_{\mathrm{emb}}", "n_emb", "",
          "vocabulary x hidden matrices stored: 1 when the output head is tied to the input "
          "embedding, 2 when untied",
          integer=True, default=2, range=(1, 2)),
    Entry("norms_per_layer", r"n_{\mathrm{norm}}", "n_norm", "",
          "hidden-wide normalization weight vectors per layer (2 in Llama, 4 in Gemma 2/3)",
          integer=True, default=2, range=(1, 8)),
    # ------------------------------------------------------------------ mixture of experts
    Entry("n_experts", "E", "E", "", "routed experts per mixture-of-experts layer",
          integer=True, default=256, range=(2, 1024)),
    Entry("experts_per_token", "k", "k", "",
          "routed experts each token is sent to, per mixture-of-experts layer (top-k)",
          integer=True, default=8, range=(1, 64)),
    Entry("n_shared_experts", r"E_{\mathrm{s}}", "E_s", "",
          "shared experts every token goes through, per mixture-of-experts layer",
          domain="nonnegative", integer=True, default=1, range=(0, 8)),
    Entry("moe_intermediate_size", r"d_{\mathrm{e}}", "d_e", "element",
          "inner width of one expert's gated feed-forward block",
          integer=True, default=2048, range=(128, 1e5)),
    Entry("dense_layers", r"L_{\mathrm{dense}}", "L_dense", "",
          "layers with a dense feed-forward block in a mixture-of-experts model "
          "(DeepSeek's first_k_dense_replace)",
          domain="nonnegative", integer=True, default=3, range=(0, 200)),
    Entry("moe_layers", r"L_{\mathrm{MoE}}", "L_MoE", "",
          "layers with a mixture-of-experts feed-forward block",
          integer=True, default=58, range=(1, 200)),
    Entry("mtp_layers", r"n_{\mathrm{MTP}}", "n_MTP", "",
          "multi-token-prediction modules stored beside the main model (DeepSeek's "
          "num_nextn_predict_layers): a draft head for speculative decoding, outside the "
          "main model's count",
          domain="nonnegative", integer=True, default=1, range=(0, 8)),
    # ------------------------------------------------------------------ multi-head latent attention
    Entry("q_lora_rank", r"d_{c}^{\prime}", "d_c'", "element",
          "MLA query compression width (DeepSeek's q_lora_rank)",
          integer=True, default=1536, range=(64, 8192)),
    Entry("kv_lora_rank", r"d_{c}", "d_c", "element",
          "MLA key/value latent width, cached per token and layer (DeepSeek's kv_lora_rank)",
          integer=True, default=512, range=(64, 4096)),
    Entry("qk_nope_head_dim", r"d_{h}^{N}", "d_h^N", "element",
          "MLA per-head query/key width without rotary embedding (DeepSeek's qk_nope_head_dim)",
          integer=True, default=128, range=(16, 512)),
    Entry("qk_rope_head_dim", r"d_{h}^{R}", "d_h^R", "element",
          "MLA decoupled rotary key width, shared by the heads and cached per token and layer "
          "(DeepSeek's qk_rope_head_dim)",
          integer=True, default=64, range=(16, 512)),
    Entry("v_head_dim", r"d_{v}", "d_v", "element",
          "MLA per-head value width (DeepSeek's v_head_dim)",
          integer=True, default=128, range=(16, 512)),
    # ------------------------------------------------------------------ sparse attention (DSA)
    Entry("index_n_heads", r"H_{I}", "H_I", "",
          "heads of the lightning indexer that scores which cached tokens each query attends "
          "to (DeepSeek-V3.2's index_n_heads)",
          integer=True, default=64, range=(1, 512)),
    Entry("index_head_dim", r"d_{I}", "d_I", "element",
          "width of one indexer head; also the indexer key cached per token and layer "
          "(DeepSeek-V3.2's index_head_dim)",
          integer=True, default=128, range=(16, 1024)),
    Entry("index_topk", r"k_{I}", "k_I", "token",
          "cached tokens each query attends to in a sparse-attention layer, chosen by the "
          "indexer (DeepSeek-V3.2's index_topk)",
          integer=True, default=2048, range=(16, 1e6)),
    # ------------------------------------------------------------------ hybrid: recurrent layers
    Entry("attention_layers", r"L_{\mathrm{attn}}", "L_attn", "",
          "layers (or blocks) with attention, the only ones that keep a KV cache, in a hybrid "
          "model",
          domain="nonnegative", integer=True, default=6, range=(0, 200)),
    Entry("ssm_layers", r"L_{\mathrm{rec}}", "L_rec", "",
          "recurrent layers (Mamba / state-space or Gated DeltaNet linear attention) of a hybrid "
          "model: each keeps a fixed-size state per sequence",
          integer=True, default=23, range=(1, 200)),
    Entry("ssm_inner", r"d_{\mathrm{in}}", "d_in", "element",
          "inner width of a Mamba layer (d_inner = expand x hidden; Mamba-2: heads x head_dim)",
          integer=True, default=4096, range=(64, 1e5)),
    Entry("ssm_state_size", "N", "N", "element",
          "state size per channel of a Mamba layer (d_state)",
          integer=True, default=128, range=(1, 1024)),
    Entry("ssm_heads", r"H_{\mathrm{s}}", "H_s", "",
          "heads of a Mamba-2 layer (one decay and one time step per head)",
          integer=True, default=64, range=(1, 1024)),
    Entry("ssm_groups", "G", "G", "",
          "groups of a Mamba-2 layer's B and C projections (n_groups)",
          integer=True, default=8, range=(1, 256)),
    Entry("conv_kernel", "K", "K", "",
          "width of the causal convolution of a Mamba or Gated DeltaNet layer (d_conv)",
          integer=True, default=4, range=(2, 16)),
    Entry("dt_rank", "R", "R", "element",
          "rank of a Mamba-1 layer's time-step projection (time_step_rank)",
          integer=True, default=256, range=(1, 4096)),
    Entry("linear_key_heads", r"H_{k}", "H_k", "",
          "query/key heads of a Gated DeltaNet (linear-attention) layer",
          integer=True, default=16, range=(1, 256)),
    Entry("linear_value_heads", r"H_{v}", "H_v", "",
          "value heads of a Gated DeltaNet layer: one d_k x d_v state each",
          integer=True, default=32, range=(1, 256)),
    Entry("linear_key_head_dim", r"d_{k}", "d_k", "element",
          "query/key width of a Gated DeltaNet head",
          integer=True, default=128, range=(16, 1024)),
    Entry("linear_value_head_dim", r"d_{v}", "d_v", "element",
          "value width of a Gated DeltaNet head",
          integer=True, default=128, range=(16, 1024)),
    # ------------------------------------------------------------------ sliding windows
    Entry("sliding_window", "W", "W", "token",
          "attention window of a local (sliding-window) layer: the most tokens it caches",
          integer=True, default=1024, range=(16, 1e6)),
    Entry("local_layers", r"L_{\mathrm{loc}}", "L_loc", "",
          "sliding-window (local) attention layers",
          integer=True, default=52, range=(1, 200)),
    Entry("global_layers", r"L_{\mathrm{glob}}", "L_glob", "",
          "full (global) attention layers of a model that also has sliding-window layers",
          domain="nonnegative", integer=True, default=10, range=(0, 200)),
)
# fmt: on

for _entry in ARCHITECTURE:
    glossary.add(_entry)
