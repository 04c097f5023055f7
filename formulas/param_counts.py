"""Parameter counts from the architecture: embeddings, attention, norms, feed-forward, totals.

The seed takes the parameter count as given ("70B").  Here it is derived from a model's
``config.json`` values, piece by piece, and matches the exact checkpoint counts of
``HF configs and model cards`` (Llama 3.1, Mixtral, Qwen3-MoE, DeepSeek-V3, gpt-oss, Gemma 3).

Counting conventions
--------------------
- Every weight matrix and vector of the checkpoint counts once: the embedding table; the output
  head unless tied to it (``embedding_matrices`` = 1 tied, 2 untied); per layer the attention
  projections (with biases, sinks and MLA's low-rank projections and norms where the family has
  them), the feed-forward block, the norms; the final norm.
- A dense gated feed-forward block (SwiGLU / GeGLU) has three d x d_ff matrices: gate, up, down.
- A mixture-of-experts layer holds E routed and E_s shared experts (each a gated block of width
  d_e) and a router (d x E, plus a per-expert bias in gpt-oss and DeepSeek-V3).  DeepSeek's first
  ``first_k_dense_replace`` layers keep a dense block instead.

Active parameters (``active_param_count``): the weights one token multiplies with, i.e. the
2 FLOP-per-parameter count of ``dense_flops``.  Every attention and norm weight, the dense
blocks, the shared experts, the router, the k routed-in experts, and the output head (a
V x d matmul); *not* the input-embedding table, which is a row lookup, nor the experts the
token is not routed to.  This is OpenAI's convention for gpt-oss ("5.13B active").  Mistral AI
and DeepSeek also count the input embedding: ``active_param_count_with_embedding`` (Mixtral
12.9B, DeepSeek-V3 37B); Qwen does not say (Qwen3-235B-A22B's "22B" is 21.6B without it, 22.2B
with it).  For a tied model both conventions give the same count.

Variants (swapped in by a preset with :meth:`~llmphys.Formula.with_parts`): attention with
biases or sinks, MLA attention, q/k norms, plain and biased feed-forward blocks.  Each has the
unit of the part it replaces.  The experts, routers and the MoE feed-forward stacks are counted
in :mod:`llmphys.moe_params`, the multi-token-prediction modules in :mod:`llmphys.mtp_modules`.
"""

from __future__ import annotations

from llmphys import attention  # noqa: F401  (kv_width and mla_latent_width are parts below)
from llmphys.engine import formula

__all__ = [
    "active_ffn_stack_params",
    "active_param_count",
    "active_param_count_with_embedding",
    "attention_bias_params",
    "attention_params",
    "attention_params_biased",
    "attention_params_qkv_bias",
    "attention_params_sinks",
    "embedding_lookup_params",
    "embedding_params",
    "ffn_params",
    "ffn_params_plain",
    "ffn_params_plain_biased",
    "ffn_stack_params",
    "final_norm_params",
    "final_norm_params_biased",
    "layer_norm_params",
    "layer_norm_params_qk",
    "layer_norm_params_qk_full",
    "mla_attention_params",
    "mla_query_params",
    "mla_query_params_direct",
    "param_count",
]

MODELS_MD = "HF configs and model cards"


# ----------------------------------------------------------------------------- embeddings
@formula(
    unit="parameter",
    latex=r"P_{\mathrm{emb}}",
    source=f"{MODELS_MD} (vocab_size x hidden_size, input embedding and untied output head)",
)
def embedding_params(vocab_size, hidden):
    """Parameters of one vocabulary x hidden matrix: the input embedding (or the output head).

    Notes
    -----
    - The input embedding maps each token id to a d-wide row; the output head (unembedding)
      maps the final hidden state back to V logits and has the same shape.
    - Large for big vocabularies: 1.4B of Gemma-3-27B's 27B (V = 262,144).

    Examples
    --------
    >>> q = embedding_params(vocab_size=128256, hidden=4096)
    >>> print(f"{q:,.0f~P}")
    525,336,576 param
    """
    return vocab_size * hidden


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{lookup}}",
    source=f"{MODELS_MD} (active conventions: OpenAI counts the unembedding, not the embedding)",
)
def embedding_lookup_params(embedding_matrices, embedding_params):
    """Parameters of the input-embedding table used only as a lookup: the table, when the output
    head is a separate matrix; none when they are tied.

    Notes
    -----
    - A token reads one row of the input embedding (d numbers): no matmul, no 2 FLOP per
      parameter.  The output head is a full V x d matmul.
    - Tied (n_emb = 1, Gemma): the one matrix is the output head, so nothing is lookup-only.

    Examples
    --------
    >>> q = embedding_lookup_params(embedding_matrices=2, vocab_size=201088, hidden=2880)
    >>> print(f"{q:,.0f~P}")
    579,133,440 param
    """
    return (embedding_matrices - 1) * embedding_params


# ----------------------------------------------------------------------------- attention
@formula(
    unit="parameter",
    latex=r"P_{\mathrm{attn}}",
    source=f"{MODELS_MD} (Llama-style layers: q, k, v, o projections)",
)
def attention_params(hidden, n_heads, head_dim, kv_width):
    """Attention weights of one layer (MHA, GQA, MQA): the q and o projections, n_h d_h wide,
    and the k and v projections, which produce the cached KV width.

    Notes
    -----
    - q: d x n_h d_h and o: n_h d_h x d; k and v together: d x 2 n_kv d_h = d x w_kv.
    - The head width is explicit: Qwen3-235B-A22B's 64 heads of 128 make q and o 8,192 wide on
      a 4,096-wide model.
    - No biases (Llama, Mistral, Mixtral, Qwen3, Gemma, DeepSeek); see the ``_qkv_bias``,
      ``_biased`` and ``_sinks`` variants.

    Examples
    --------
    >>> q = attention_params(hidden=4096, n_heads=32, n_kv_heads=8, head_dim=128)
    >>> print(f"{q:,.0f~P}")
    41,943,040 param
    """
    return 2 * hidden * n_heads * head_dim + hidden * kv_width


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{bias}}",
    source="Qwen2 architecture (HF transformers Qwen2Attention: q, k, v projections with bias)",
)
def attention_bias_params(n_heads, head_dim, kv_width):
    """Bias vectors of the q, k and v projections of one layer.

    Notes
    -----
    - One bias per output of each projection: n_h d_h for q, the KV width for k and v.

    Examples
    --------
    >>> q = attention_bias_params(n_heads=64, n_kv_heads=8, head_dim=64)
    >>> print(f"{q:,.0f~P}")
    5,120 param
    """
    return n_heads * head_dim + kv_width


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{attn}}^{\mathrm{qkv\,b}}",
    text="P_attn^qkv-b",
    source="Qwen2 architecture (HF transformers Qwen2Attention: bias on q, k, v, not on o)",
    replaces="attention_params",
    feature="qkv_bias",
)
def attention_params_qkv_bias(attention_params, attention_bias_params):
    """Attention parameters of one layer with biases on q, k and v (Qwen2 family).

    Examples
    --------
    >>> q = attention_params_qkv_bias(hidden=3584, n_heads=28, n_kv_heads=4, head_dim=128)
    >>> print(f"{q:,.0f~P}")
    29,364,736 param
    """
    return attention_params + attention_bias_params


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{attn}}^{\mathrm{b}}",
    source="HF config attention_bias = true (bias on q, k, v and o); gpt-oss (models.md: "
    "attention biases)",
    replaces="attention_params",
    feature="attention_bias",
)
def attention_params_biased(attention_params_qkv_bias, hidden):
    """Attention parameters of one layer with biases on all four projections.

    Notes
    -----
    - ``attention_bias: true`` in a Llama, Mistral, Qwen3 or gpt-oss config: q, k, v and o
      each carry a bias; the o bias is d wide.

    Examples
    --------
    >>> q = attention_params_biased(hidden=2880, n_heads=64, n_kv_heads=8, head_dim=64)
    >>> print(f"{q:,.0f~P}")
    26,550,080 param
    """
    return attention_params_qkv_bias + hidden


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{attn}}^{\mathrm{sink}}",
    source=f"{MODELS_MD} (gpt-oss-120b: attention biases and per-head sinks)",
    replaces="attention_params",
    feature="attention_sinks",
)
def attention_params_sinks(attention_params_biased, n_heads):
    """Attention parameters of one gpt-oss layer: biased projections plus one learned sink logit
    per head.

    Notes
    -----
    - A sink is an extra logit per head in the softmax's denominator, letting a head attend to
      "nothing"; it is one parameter per head, not a cached token.

    Examples
    --------
    >>> q = attention_params_sinks(hidden=2880, n_heads=64, n_kv_heads=8, head_dim=64)
    >>> print(f"{q:,.0f~P}")
    26,550,144 param
    """
    return attention_params_biased + n_heads


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{q}}^{\mathrm{MLA}}",
    source="DeepSeek-V2 technical report (arXiv:2405.04434), section 2.1.2 (low-rank query "
    f"compression); {MODELS_MD} (q_lora_rank)",
)
def mla_query_params(hidden, q_lora_rank, n_heads, qk_nope_head_dim, qk_rope_head_dim):
    """Query weights of one MLA layer with low-rank query compression: down-projection, its
    norm, and the up-projection to every head's d_h^N + d_h^R.

    Notes
    -----
    - q_a_proj d x d_c', q_a_layernorm d_c', q_b_proj d_c' x n_h (d_h^N + d_h^R).
    - DeepSeek-V3: 7168 x 1536 + 1536 + 1536 x 128 x 192 = 48.8M per layer.

    Examples
    --------
    >>> q = mla_query_params(hidden=7168, q_lora_rank=1536, n_heads=128,
    ...                      qk_nope_head_dim=128, qk_rope_head_dim=64)
    >>> print(f"{q:,.0f~P}")
    48,760,320 param
    """
    return (
        hidden * q_lora_rank
        + q_lora_rank
        + q_lora_rank * n_heads * (qk_nope_head_dim + qk_rope_head_dim)
    )


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{q}}^{\mathrm{MLA,direct}}",
    source="DeepSeek-V2 architecture (HF transformers DeepseekV2Attention: q_proj when "
    "q_lora_rank is null, e.g. DeepSeek-V2-Lite)",
    replaces="mla_query_params",
    feature="mla_direct_query",
)
def mla_query_params_direct(hidden, n_heads, qk_nope_head_dim, qk_rope_head_dim):
    """Query weights of one MLA layer without query compression (``q_lora_rank: null``).

    Examples
    --------
    >>> q = mla_query_params_direct(hidden=2048, n_heads=16, qk_nope_head_dim=128,
    ...                             qk_rope_head_dim=64)
    >>> print(f"{q:,.0f~P}")
    6,291,456 param
    """
    return hidden * n_heads * (qk_nope_head_dim + qk_rope_head_dim)


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{attn}}^{\mathrm{MLA}}",
    source="DeepSeek-V2 technical report (arXiv:2405.04434), section 2.1; "
    f"{MODELS_MD} (MLA fields of DeepSeek-V3)",
    replaces="attention_params",
    feature="mla",
)
def mla_attention_params(
    mla_query_params,
    hidden,
    mla_latent_width,
    kv_lora_rank,
    n_heads,
    qk_nope_head_dim,
    v_head_dim,
):
    """Attention weights of one multi-head latent attention (MLA) layer.

    Notes
    -----
    - Queries: ``mla_query_params``.
    - kv_a_proj_with_mqa: d x (d_c + d_h^R), producing exactly what is cached (the latent and
      the shared rotary key); kv_a_layernorm: d_c.
    - kv_b_proj: d_c x n_h (d_h^N + d_v), recovering each head's key and value from the latent.
    - o_proj: n_h d_v x d.
    - DeepSeek-V3: 187.1M per layer.

    Examples
    --------
    >>> q = mla_attention_params(hidden=7168, q_lora_rank=1536, kv_lora_rank=512,
    ...       n_heads=128, qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128)
    >>> print(f"{q:,.0f~P}")
    187,107,328 param
    """
    return (
        mla_query_params
        + hidden * mla_latent_width
        + kv_lora_rank
        + kv_lora_rank * n_heads * (qk_nope_head_dim + v_head_dim)
        + n_heads * v_head_dim * hidden
    )


# ----------------------------------------------------------------------------- norms
@formula(
    unit="parameter",
    latex=r"P_{\mathrm{norm}}",
    source=f"{MODELS_MD} (Llama: 2 RMSNorm weight vectors per layer; Gemma-3: 4)",
)
def layer_norm_params(norms_per_layer, hidden):
    """Normalization weights of one layer: n_norm RMSNorm vectors of width d.

    Notes
    -----
    - Llama, Mistral, Qwen, DeepSeek, gpt-oss: before attention and before the FFN (2).
    - Gemma 2/3: also after each (4).

    Examples
    --------
    >>> q = layer_norm_params(norms_per_layer=4, hidden=5376)
    >>> print(f"{q:,.0f~P}")
    21,504 param
    """
    return norms_per_layer * hidden


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{norm}}^{\mathrm{qk}}",
    source=f"{MODELS_MD} (Qwen3-235B-A22B: q/k RMSNorm of head_dim each; Gemma-3: q/k norms)",
    replaces="layer_norm_params",
    feature="qk_norm",
)
def layer_norm_params_qk(layer_norm_params, head_dim):
    """Normalization weights of one layer that also normalizes queries and keys per head.

    Notes
    -----
    - One d_h-wide RMSNorm for the queries and one for the keys, shared by all heads
      (Qwen3, Gemma 3).

    Examples
    --------
    >>> q = layer_norm_params_qk(norms_per_layer=4, hidden=5376, head_dim=128)
    >>> print(f"{q:,.0f~P}")
    21,760 param
    """
    return layer_norm_params + 2 * head_dim


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{norm}}^{\mathrm{qk,full}}",
    source="HF transformers Olmo2Attention / OlmoeAttention / MiniMaxM2Attention: q_norm of "
    "n_h d_h and k_norm of n_kv d_h (RMSNorm over the whole projection); CohereAttention "
    "with use_qk_norm: a LayerNorm weight per head",
    replaces="layer_norm_params",
    feature="qk_norm_full",
)
def layer_norm_params_qk_full(layer_norm_params, n_heads, n_kv_heads, head_dim):
    """Normalization weights of one layer that normalizes the whole query and key projections:
    a weight per query and per key element, n_h d_h + n_kv d_h.

    Notes
    -----
    - OLMo 2, OLMoE and MiniMax-M2 normalize q and k over the full projection (one scale per
      element of all heads), not one head_dim-wide norm shared by the heads (Qwen3, Gemma 3).

    Examples
    --------
    >>> q = layer_norm_params_qk_full(norms_per_layer=2, hidden=4096, n_heads=32,
    ...                               n_kv_heads=32, head_dim=128)
    >>> print(f"{q:,.0f~P}")
    16,384 param
    """
    return layer_norm_params + (n_heads + n_kv_heads) * head_dim


# ----------------------------------------------------------------------------- feed-forward
@formula(
    unit="parameter",
    latex=r"P_{\mathrm{FFN}}",
    source=f"{MODELS_MD} (gate/up/down FFN)",
)
def ffn_params(hidden, intermediate_size):
    """Weights of one dense gated feed-forward block: gate, up and down projections.

    Notes
    -----
    - SwiGLU / GeGLU: out = down(act(gate(x)) * up(x)); three d x d_ff matrices, no biases
      in these families.
    - Two thirds of a Llama layer's parameters.

    Examples
    --------
    >>> q = ffn_params(hidden=4096, intermediate_size=14336)
    >>> print(f"{q:,.0f~P}")
    176,160,768 param
    """
    return 3 * hidden * intermediate_size


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{FFN}}^{\mathrm{plain}}",
    source="HF transformers Starcoder2MLP (c_fc, c_proj), NemotronHMLP (up_proj, down_proj): "
    "an up and a down projection, no gate",
    replaces="ffn_params",
    feature="plain_mlp",
)
def ffn_params_plain(hidden, intermediate_size):
    """Weights of one plain (ungated) feed-forward block: an up and a down projection.

    Notes
    -----
    - out = down(act(up(x))) with GELU or squared ReLU: two d x d_ff matrices, not three.

    Examples
    --------
    >>> q = ffn_params_plain(hidden=4608, intermediate_size=18432)
    >>> print(f"{q:,.0f~P}")
    169,869,312 param
    """
    return 2 * hidden * intermediate_size


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{FFN}}^{\mathrm{plain,b}}",
    source="HF transformers Starcoder2MLP: c_fc and c_proj with bias (use_bias)",
    replaces="ffn_params_plain",
    feature="mlp_bias",
)
def ffn_params_plain_biased(ffn_params_plain, intermediate_size, hidden):
    """Weights of one plain feed-forward block with biases: d_ff on the up projection, d on the
    down projection.

    Examples
    --------
    >>> q = ffn_params_plain_biased(hidden=4608, intermediate_size=18432)
    >>> print(f"{q:,.0f~P}")
    169,892,352 param
    """
    return ffn_params_plain + intermediate_size + hidden


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{FFN,all}}",
    source=f"{MODELS_MD} (Llama-style layers: gate/up/down FFN in every layer)",
)
def ffn_stack_params(layers, ffn_params):
    """Feed-forward weights of all layers of a dense model.

    Examples
    --------
    >>> q = ffn_stack_params(layers=32, hidden=4096, intermediate_size=14336)
    >>> print(f"{q:,.0f~P}")
    5,637,144,576 param
    """
    return layers * ffn_params


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{FFN,a}}",
    source=f"{MODELS_MD} (active conventions)",
)
def active_ffn_stack_params(ffn_stack_params):
    """Feed-forward weights a token uses, over all layers: in a dense model, all of them.

    Notes
    -----
    - Replaced by ``moe_active_ffn_stack_params`` for a mixture of experts.

    Examples
    --------
    >>> q = active_ffn_stack_params(layers=32, hidden=4096, intermediate_size=14336)
    >>> print(f"{q:,.0f~P}")
    5,637,144,576 param
    """
    return ffn_stack_params


# ----------------------------------------------------------------------------- final norm
@formula(
    unit="parameter",
    latex=r"P_{\mathrm{final}}",
    source=f"{MODELS_MD} (Llama: one RMSNorm of hidden_size after the last layer)",
)
def final_norm_params(hidden):
    """Weights of the norm after the last layer, before the output head: one d-wide vector.

    Examples
    --------
    >>> q = final_norm_params(hidden=4096)
    >>> print(f"{q:,.0f~P}")
    4,096 param
    """
    return hidden


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{final}}^{\mathrm{b}}",
    source="HF transformers Starcoder2Model / StableLmModel / PhimoeModel: nn.LayerNorm "
    "(weight and bias) as the final norm",
    replaces="final_norm_params",
    feature="norm_bias",
)
def final_norm_params_biased(final_norm_params):
    """Weights of a final LayerNorm with a bias: a d-wide scale and a d-wide shift.

    Examples
    --------
    >>> q = final_norm_params_biased(hidden=4608)
    >>> print(f"{q:,.0f~P}")
    9,216 param
    """
    return 2 * final_norm_params


# ----------------------------------------------------------------------------- totals
@formula(
    unit="parameter",
    latex=r"N_{\mathrm{arch}}",
    source=f"{MODELS_MD} (published parameter counts; counting conventions)",
)
def param_count(
    embedding_matrices,
    embedding_params,
    layers,
    attention_params,
    layer_norm_params,
    ffn_stack_params,
    final_norm_params,
):
    """Total parameters from the architecture: embeddings, every layer's attention, norms and
    feed-forward blocks, and the final norm.

    Notes
    -----
    - The input of ``weight_bytes``: every parameter is stored, experts included.
    - Llama 3.1 8B: 2 x 525.3M + 32 x (41.9M + 8.2K) + 5.64B + 4,096 = 8,030,261,248, the
      exact checkpoint count.
    - Variants for real families swap its parts (MLA attention, biases, q/k norms, the MoE
      stack): ``llmphys.models[name].formula("param_count")``.

    Examples
    --------
    >>> q = param_count(embedding_matrices=2, vocab_size=128256, hidden=4096, layers=32,
    ...                 n_heads=32, n_kv_heads=8, head_dim=128, norms_per_layer=2,
    ...                 intermediate_size=14336)
    >>> print(f"{q:,.0f~P}")
    8,030,261,248 param
    """
    return (
        embedding_matrices * embedding_params
        + layers * (attention_params + layer_norm_params)
        + ffn_stack_params
        + final_norm_params
    )


@formula(
    unit="parameter",
    latex=r"N_{\mathrm{a,arch}}",
    source=f"{MODELS_MD} (active conventions: OpenAI counts the unembedding, not the embedding)",
)
def active_param_count(
    param_count, embedding_lookup_params, ffn_stack_params, active_ffn_stack_params
):
    """Parameters one token multiplies with: all of them, less the input-embedding lookup table
    and the feed-forward weights the token skips (unrouted experts).

    Notes
    -----
    - The count behind 2 FLOP per active parameter per token (``dense_flops``): the output head
      is a V x d matmul and counts; the input embedding is a row lookup and does not.
    - OpenAI's convention (gpt-oss-120b: 5.13B).  Vendors that also count the embedding:
      ``active_param_count_with_embedding``.
    - Dense Llama 3.1 8B: 8.03B - 0.53B = 7.50B.

    Examples
    --------
    >>> q = active_param_count(embedding_matrices=2, vocab_size=128256, hidden=4096,
    ...                        layers=32, n_heads=32, n_kv_heads=8, head_dim=128,
    ...                        norms_per_layer=2, intermediate_size=14336)
    >>> print(f"{q:,.0f~P}")
    7,504,924,672 param
    """
    return param_count - embedding_lookup_params - (ffn_stack_params - active_ffn_stack_params)


@formula(
    unit="parameter",
    latex=r"N_{\mathrm{a,arch}}^{\mathrm{+emb}}",
    source=f"{MODELS_MD} (active conventions: DeepSeek counts embedding and head, Mistral "
    "counts everything used per token)",
)
def active_param_count_with_embedding(active_param_count, embedding_lookup_params):
    """Active parameters counted the way Mistral AI and DeepSeek publish them: including the
    input-embedding table.

    Notes
    -----
    - Mixtral-8x7B's 12.9B and DeepSeek-V3's 37B are given in this convention (models.md);
      Qwen3-235B-A22B's 22B is within 3% under either.
    - Equal to the total for a dense model.

    Examples
    --------
    >>> q = active_param_count_with_embedding(embedding_matrices=2, vocab_size=128256,
    ...       hidden=4096, layers=32, n_heads=32, n_kv_heads=8, head_dim=128,
    ...       norms_per_layer=2, intermediate_size=14336)
    >>> print(f"{q:,.0f~P}")
    8,030,261,248 param
    """
    return active_param_count + embedding_lookup_params
