"""The architectural and deployment features a formula variant can be declared under.

A model's ``features`` (read from its ``config.json``) and a scenario's layout pick which
variants apply; each variant says what it replaces and under which of these features
(``@formula(..., replaces=..., feature=...)``, see :mod:`llmphys.engine.variants`).
"""

from __future__ import annotations

from llmphys.engine.variants import declare_feature

__all__ = ["LAYOUT", "MIXED_WEIGHTS", "OUTPUT_HEAD"]

# attention kinds
declare_feature("explicit_heads", "attention over n_h heads of an explicit head_dim")
declare_feature("mla", "multi-head latent attention (cached latent d_c + rotary key d_h^R)")
declare_feature("mla_direct_query", "MLA without query compression (q_lora_rank null)")
declare_feature(
    "sparse_indexer",
    "MLA with a lightning indexer choosing the top-k cached tokens per query (DSA)",
)
declare_feature(
    "recurrent_state",
    "hybrid layers: recurrent layers (Mamba, Gated DeltaNet) keep a fixed state per sequence; "
    "only the attention layers keep a KV cache",
)
declare_feature(
    "attention_free", "no attention layer: every block a norm and a recurrent mixer (Mamba)"
)
declare_feature("mamba1", "Mamba-1 recurrent layers (selective scan, d_inner x d_state state)")
declare_feature("mamba_inner_norms", "RMSNorms on a Mamba layer's time step, B and C (Jamba)")
declare_feature("gated_deltanet", "Gated DeltaNet linear-attention layers (H_v d_k x d_v states)")
declare_feature(
    "gated_attention", "attention with an output gate (q_proj twice as wide) and q/k norms"
)
declare_feature("mlp_blocks", "dense feed-forward blocks in some blocks only (Nemotron-H '-')")
declare_feature("sliding_window", "sliding-window (local) layers interleaved with global ones")
#: a known vocabulary: the output head is its own matmul, computed where logits are needed
OUTPUT_HEAD = declare_feature(
    "output_head", "an output head of V x d whose logits prefill computes only where needed"
)
# parameters of the attention block and the norms
declare_feature("qkv_bias", "biases on the q, k and v projections")
declare_feature("attention_bias", "biases on the q, k, v and o projections")
declare_feature("attention_sinks", "biases on q, k, v, o and a learned sink per head")
declare_feature("qk_norm", "RMSNorm on queries and keys (head_dim each)")
declare_feature(
    "qk_norm_full", "norms over the whole query and key projections (n_h d_h, n_kv d_h)"
)
declare_feature("norm_bias", "LayerNorms with a bias (the final norm too)")
# the feed-forward block
declare_feature("plain_mlp", "an ungated feed-forward block (up and down projections)")
declare_feature("mlp_bias", "biases on the feed-forward projections")
# mixture of experts
declare_feature("moe", "mixture of experts")
declare_feature("dense_layers", "dense feed-forward blocks in some layers of the MoE model")
declare_feature("expert_bias", "biases in the experts")
declare_feature("router_bias", "a per-expert router bias")
declare_feature("shared_expert_gate", "a one-output gate on the shared expert (Qwen2-MoE)")
#: weights stored at more than one precision (experts, embeddings and the rest)
MIXED_WEIGHTS = declare_feature(
    "mixed_weights",
    "weights at several precisions: routed experts, embeddings and head, and the rest",
)
#: a deployment over more than one GPU: per-GPU memory, the layout's decode step and prefill
LAYOUT = declare_feature(
    "layout", "spread over several GPUs (tensor, pipeline or expert parallelism)"
)
#: a prompt whose first tokens are already cached: prefill computes only the rest
PREFIX_CACHE = declare_feature(
    "prefix_cache", "prefix caching: a fraction of each prompt's tokens is already cached"
)
#: a draft (a small model or the model's MTP modules) proposes tokens the model verifies
SPECULATIVE = declare_feature(
    "speculative", "speculative decoding: drafted tokens verified in one step of the model"
)
