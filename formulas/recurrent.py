"""Hybrid models: recurrent layers (Mamba, Gated DeltaNet) beside attention layers.

A recurrent layer (a Mamba / state-space layer, or a Gated DeltaNet linear-attention layer)
carries a fixed-size *state* per sequence from token to token instead of a KV cache: its size
does not depend on the context.  Only the attention layers of a hybrid model keep a KV cache.
What changes, by formula:

* parameters: each recurrent layer's mixer (Mamba-2 by default; Mamba-1 and Gated DeltaNet are
  variants), attention only in the attention layers (``param_count_hybrid``);
* memory: the KV cache of the attention layers plus the state of every recurrent layer for
  each sequence (``kv_cache_bytes_hybrid``); the context becomes nearly free, the batch is
  what the state bounds;
* bandwidth: each decoded token reads and writes its sequence's whole state
  (``state_traffic``);
* compute: the projections are in the active parameters (2 FLOP each); the recurrence itself
  updates and reads the state once per token (``recurrent_flops``).

State shapes follow the engines that serve these models (vLLM ``MambaStateShapeCalculator``):
the convolution keeps the last K - 1 inputs of its channels; Mamba-1 and Mamba-2 keep d_in x N
state values (Mamba-2: heads x head_dim x N); Gated DeltaNet keeps one d_k x d_v matrix per
value head.  HF transformers allocates the convolution state K wide, one column more.

Sources: Mamba (Gu & Dao, arXiv:2312.00752), Mamba-2 / SSD (Dao & Gu, arXiv:2405.21060),
Gated DeltaNet (Yang et al., arXiv:2412.06464); tensor shapes of HF transformers 5.25
``MambaMixer``, ``Mamba2Mixer``, ``NemotronHMamba2Mixer``, ``Qwen3NextGatedDeltaNet``,
``JambaMambaMixer``.
"""

from __future__ import annotations

from llmphys import (  # noqa: F401  (the parts used below)
    attention,
    bandwidth,
    compute,
    latency,
    memory,
    parallel,
    parallel_time,
    param_counts,
)
from llmphys.attention import BYTE_PER_ELEMENT
from llmphys.engine import formula
from llmphys.units import unit_symbol

FLOP = unit_symbol("FLOP")

__all__ = [
    "active_params_per_gpu_ssm",
    "attention_flops_hybrid",
    "attention_flops_ssm",
    "attention_params_gated",
    "attention_score_bytes_hybrid",
    "conv_channels",
    "conv_channels_deltanet",
    "conv_channels_mamba1",
    "ffn_stack_params_blocks",
    "kv_bytes_per_token_hybrid",
    "kv_cache_bytes_hybrid",
    "kv_cache_bytes_ssm",
    "kv_cache_per_gpu_hybrid",
    "kv_cache_per_gpu_ssm",
    "kv_traffic_hybrid",
    "kv_traffic_per_gpu_hybrid",
    "kv_traffic_per_gpu_ssm",
    "kv_traffic_ssm",
    "kv_width_hybrid",
    "layer_params_per_gpu_ssm",
    "param_count_hybrid",
    "param_count_ssm",
    "params_per_gpu_ssm",
    "prefill_bytes_ssm",
    "recurrent_flops",
    "recurrent_flops_deltanet",
    "ssm_params",
    "ssm_params_deltanet",
    "ssm_params_mamba1",
    "ssm_params_mamba1_normed",
    "ssm_state_elements",
    "ssm_state_elements_deltanet",
    "state_bytes_per_sequence",
    "state_traffic",
]

_MAMBA2 = "Mamba-2 (arXiv:2405.21060); HF transformers Mamba2Mixer / NemotronHMamba2Mixer"
_MAMBA1 = "Mamba (arXiv:2312.00752); HF transformers MambaMixer"
_GDN = "Gated DeltaNet (arXiv:2412.06464); HF transformers Qwen3NextGatedDeltaNet"
_VLLM = "vLLM MambaStateShapeCalculator (conv state K - 1 wide)"


# ----------------------------------------------------------------------------- parameters
@formula(
    unit="parameter",
    latex=r"P_{\mathrm{rec}}",
    text="P_rec",
    source=f"{_MAMBA2} (in_proj, conv1d with bias, dt_bias, A_log, D, gated norm, out_proj)",
)
def ssm_params(hidden, ssm_inner, ssm_groups, ssm_state_size, ssm_heads, conv_kernel):
    """Weights of one Mamba-2 mixer.

    Notes
    -----
    - in_proj: d x (2 d_in + 2 G N + H_s): the gate z, the input x, B and C, one time step per
      head.
    - conv1d over the d_in + 2 G N channels of x, B and C: K weights and a bias each.
    - Per head: a time-step bias, a decay (A_log) and a skip (D); a gated RMSNorm of d_in;
      out_proj: d_in x d.
    - Mamba-Codestral-7B: 109,635,968 per layer.

    Examples
    --------
    >>> q = ssm_params(hidden=4096, ssm_inner=8192, ssm_groups=8, ssm_state_size=128,
    ...                ssm_heads=128, conv_kernel=4)
    >>> print(f"{q:,.0f~P}")
    109,635,968 param
    """
    channels = ssm_inner + 2 * ssm_groups * ssm_state_size
    return (
        hidden * (ssm_inner + channels + ssm_heads)
        + channels * (conv_kernel + 1)
        + 3 * ssm_heads
        + ssm_inner
        + ssm_inner * hidden
    )


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{rec}}^{\mathrm{M1}}",
    text="P_rec^M1",
    source=f"{_MAMBA1} (in_proj, conv1d, x_proj, dt_proj, A_log, D, out_proj)",
    replaces="ssm_params",
    feature="mamba1",
)
def ssm_params_mamba1(hidden, ssm_inner, ssm_state_size, dt_rank, conv_kernel):
    """Weights of one Mamba-1 mixer.

    Notes
    -----
    - in_proj: d x 2 d_in (input and gate); conv1d: K weights and a bias per channel.
    - x_proj: d_in x (R + 2 N) (time step rank, B, C); dt_proj: R x d_in with a bias.
    - A_log: d_in x N; D: d_in; out_proj: d_in x d.
    - mamba-2.8b: 41,241,600 per layer.

    Examples
    --------
    >>> q = ssm_params_mamba1(hidden=2560, ssm_inner=5120, ssm_state_size=16, dt_rank=160,
    ...                       conv_kernel=4)
    >>> print(f"{q:,.0f~P}")
    41,241,600 param
    """
    return (
        2 * hidden * ssm_inner
        + ssm_inner * (conv_kernel + 1)
        + ssm_inner * (dt_rank + 2 * ssm_state_size)
        + dt_rank * ssm_inner
        + ssm_inner
        + ssm_inner * ssm_state_size
        + ssm_inner
        + ssm_inner * hidden
    )


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{rec}}^{\mathrm{M1,n}}",
    text="P_rec^M1,n",
    source="HF transformers JambaMambaMixer (dt_layernorm, b_layernorm, c_layernorm)",
    replaces="ssm_params_mamba1",
    feature="mamba_inner_norms",
)
def ssm_params_mamba1_normed(ssm_params_mamba1, dt_rank, ssm_state_size):
    """Weights of one Jamba Mamba mixer: Mamba-1 plus RMSNorms on the time step (R), B and C
    (N each).

    Examples
    --------
    >>> q = ssm_params_mamba1_normed(hidden=4096, ssm_inner=8192, ssm_state_size=16,
    ...                              dt_rank=256, conv_kernel=4)
    >>> print(f"{q:,.0f~P}")
    105,308,448 param
    """
    return ssm_params_mamba1 + dt_rank + 2 * ssm_state_size


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{rec}}^{\mathrm{GDN}}",
    text="P_rec^GDN",
    source=f"{_GDN} (in_proj_qkvz, in_proj_ba, conv1d, dt_bias, A_log, norm, out_proj)",
    replaces="ssm_params",
    feature="gated_deltanet",
)
def ssm_params_deltanet(
    hidden,
    linear_key_heads,
    linear_key_head_dim,
    linear_value_heads,
    linear_value_head_dim,
    conv_kernel,
):
    """Weights of one Gated DeltaNet (linear-attention) mixer.

    Notes
    -----
    - Projections from d: queries and keys (H_k d_k each), values and the output gate
      (H_v d_v each), and per value head a write strength (beta) and a decay (a).
    - A bias-free conv1d over the queries, keys and values (K weights per channel).
    - Per value head a time-step bias and a decay (A_log); a gated RMSNorm of d_v;
      out_proj: H_v d_v x d.
    - Qwen3-Next-80B-A3B: 33,718,464 per layer.

    Examples
    --------
    >>> q = ssm_params_deltanet(hidden=2048, linear_key_heads=16, linear_key_head_dim=128,
    ...       linear_value_heads=32, linear_value_head_dim=128, conv_kernel=4)
    >>> print(f"{q:,.0f~P}")
    33,718,464 param
    """
    keys = linear_key_heads * linear_key_head_dim
    values = linear_value_heads * linear_value_head_dim
    return (
        hidden * (2 * keys + 2 * values + 2 * linear_value_heads)
        + (2 * keys + values) * conv_kernel
        + 2 * linear_value_heads
        + linear_value_head_dim
        + values * hidden
    )


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{attn}}^{\mathrm{gate}}",
    text="P_attn^gate",
    source="HF transformers Qwen3NextAttention (q_proj 2 n_h d_h wide: queries and an output "
    "gate; q_norm and k_norm of head_dim)",
    replaces="attention_params",
    feature="gated_attention",
)
def attention_params_gated(attention_params, hidden, n_heads, head_dim):
    """Attention weights of one gated attention layer (Qwen3-Next, Qwen3.5): the q projection
    also produces a sigmoid gate on the output (n_h d_h more), and q and k are normalized per
    head (d_h each).

    Examples
    --------
    >>> q = attention_params_gated(hidden=2048, n_heads=16, n_kv_heads=2, head_dim=256)
    >>> print(f"{q:,.0f~P}")
    27,263,488 param
    """
    return attention_params + hidden * n_heads * head_dim + 2 * head_dim


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{FFN,all}}^{\mathrm{blocks}}",
    text="P_FFN,all^blocks",
    source="HF transformers NemotronHBlock (a block is one of Mamba, attention, MLP or MoE: "
    "hybrid_override_pattern M, *, -, E)",
    replaces="ffn_stack_params",
    feature="mlp_blocks",
)
def ffn_stack_params_blocks(dense_layers, ffn_params):
    """Feed-forward weights of a model whose blocks hold one mixer each: only the MLP blocks
    (L_dense of them) have a feed-forward block.

    Examples
    --------
    >>> q = ffn_stack_params_blocks(dense_layers=24, hidden=4096, intermediate_size=21504)
    >>> print(f"{q.to('Gparam'):.4g~P}")
    6.342 Gparam
    """
    return dense_layers * ffn_params


@formula(
    unit="parameter",
    latex=r"N_{\mathrm{arch}}^{\mathrm{hyb}}",
    text="N_arch^hyb",
    source="hybrid layouts of HF transformers NemotronH, Qwen3Next, Jamba: attention in "
    "L_attn layers, a recurrent mixer in L_rec, norms and feed-forward blocks as the family "
    "places them",
    replaces="param_count",
    feature="recurrent_state",
)
def param_count_hybrid(
    embedding_matrices,
    embedding_params,
    attention_layers,
    attention_params,
    ssm_layers,
    ssm_params,
    layers,
    layer_norm_params,
    ffn_stack_params,
    final_norm_params,
):
    """Total parameters of a hybrid model: embeddings, attention in the attention layers, a
    recurrent mixer in the recurrent layers, every layer's norms, the feed-forward blocks and
    the final norm.

    Notes
    -----
    - Replaces ``param_count``.  In Nemotron-H a "layer" is a block with one mixer (Mamba,
      attention, MLP or MoE) and one norm; in Qwen3-Next and Jamba each layer has a mixer
      (attention or recurrent) and a feed-forward block.

    Examples
    --------
    >>> q = param_count_hybrid(embedding_matrices=2, vocab_size=65536, hidden=4096,
    ...       attention_layers=4, n_heads=32, n_kv_heads=8, head_dim=128, ssm_layers=28,
    ...       ssm_inner=8192, ssm_groups=1, ssm_state_size=16, ssm_heads=128, conv_kernel=4,
    ...       layers=32, norms_per_layer=2, intermediate_size=14336)
    >>> print(f"{q.to('Gparam'):.4g~P}")
    9.18 Gparam
    """
    return (
        embedding_matrices * embedding_params
        + attention_layers * attention_params
        + ssm_layers * ssm_params
        + layers * layer_norm_params
        + ffn_stack_params
        + final_norm_params
    )


# ----------------------------------------------------------------------------- state
@formula(
    unit="element",
    latex=r"C_{\mathrm{conv}}",
    text="C_conv",
    source=f"{_MAMBA2} (conv over x, B and C: d_in + 2 G N channels)",
)
def conv_channels(ssm_inner, ssm_groups, ssm_state_size):
    """Channels of a Mamba-2 layer's causal convolution: its input x and the B and C
    projections.

    Examples
    --------
    >>> print(conv_channels(ssm_inner=8192, ssm_groups=8, ssm_state_size=128))
    10240.0 element
    """
    return ssm_inner + 2 * ssm_groups * ssm_state_size


@formula(
    unit="element",
    latex=r"C_{\mathrm{conv}}^{\mathrm{M1}}",
    text="C_conv^M1",
    source=f"{_MAMBA1} (conv over the d_in inputs)",
    replaces="conv_channels",
    feature="mamba1",
)
def conv_channels_mamba1(ssm_inner):
    """Channels of a Mamba-1 layer's causal convolution: its d_in inputs.

    Examples
    --------
    >>> print(conv_channels_mamba1(ssm_inner=5120))
    5120.0 element
    """
    return ssm_inner


@formula(
    unit="element",
    latex=r"C_{\mathrm{conv}}^{\mathrm{GDN}}",
    text="C_conv^GDN",
    source=f"{_GDN} (conv over queries, keys and values)",
    replaces="conv_channels",
    feature="gated_deltanet",
)
def conv_channels_deltanet(
    linear_key_heads, linear_key_head_dim, linear_value_heads, linear_value_head_dim
):
    """Channels of a Gated DeltaNet layer's causal convolution: queries, keys and values.

    Examples
    --------
    >>> print(conv_channels_deltanet(linear_key_heads=16, linear_key_head_dim=128,
    ...                              linear_value_heads=32, linear_value_head_dim=128))
    8192.0 element
    """
    return 2 * linear_key_heads * linear_key_head_dim + linear_value_heads * linear_value_head_dim


@formula(
    unit="element",
    latex=r"n_{\mathrm{ssm}}",
    text="n_ssm",
    source=f"{_MAMBA2}; {_VLLM} (temporal state: heads x head_dim x d_state)",
)
def ssm_state_elements(ssm_inner, ssm_state_size):
    """Values of one Mamba layer's recurrent state, per sequence: N per inner channel.

    Notes
    -----
    - Mamba-2: H_s heads x head_dim x N = d_in N; Mamba-1: d_in x N.
    - Nemotron-H-8B: 128 x 64 x 128 = 1,048,576 values per layer, whatever the context.

    Examples
    --------
    >>> print(f"{ssm_state_elements(ssm_inner=8192, ssm_state_size=128):,.0f~P}")
    1,048,576 element
    """
    return ssm_inner * ssm_state_size


@formula(
    unit="element",
    latex=r"n_{\mathrm{ssm}}^{\mathrm{GDN}}",
    text="n_ssm^GDN",
    source=f"{_GDN}; {_VLLM} (temporal state: H_v x d_v x d_k)",
    replaces="ssm_state_elements",
    feature="gated_deltanet",
)
def ssm_state_elements_deltanet(linear_value_heads, linear_key_head_dim, linear_value_head_dim):
    """Values of one Gated DeltaNet layer's state, per sequence: a d_k x d_v matrix per value
    head (the linear-attention memory that replaces the KV cache).

    Examples
    --------
    >>> q = ssm_state_elements_deltanet(linear_value_heads=32, linear_key_head_dim=128,
    ...                                 linear_value_head_dim=128)
    >>> print(f"{q:,.0f~P}")
    524,288 element
    """
    return linear_value_heads * linear_key_head_dim * linear_value_head_dim


@formula(
    unit="byte/sequence",
    latex=r"M_{\mathrm{state}}",
    text="M_state",
    source=f"{_VLLM}; config mamba_ssm_cache_dtype (state precision)",
)
def state_bytes_per_sequence(
    ssm_layers, ssm_state_elements, ssm_state_bytes, conv_channels, conv_kernel, act_bytes
):
    """Bytes of recurrent state one sequence keeps, over all recurrent layers: the state
    proper and the last K - 1 inputs of the convolution.

    Notes
    -----
    - Fixed: it does not grow with the context.  Attention layers keep their KV cache besides.
    - The state is often kept in float32 (``mamba_ssm_cache_dtype``), the convolution inputs
      at the activations' precision.
    - Nemotron-3-Nano (23 Mamba-2 layers, state in float32): 49.1 MB per sequence.

    Examples
    --------
    >>> q = state_bytes_per_sequence(ssm_layers=23, ssm_inner=4096, ssm_state_size=128,
    ...       ssm_state_bytes="fp32", ssm_groups=8, conv_kernel=4, act_bytes="bf16")
    >>> print(f"{q.to('MB/sequence'):.4g~P}")
    49.08 MB/seq
    """
    return ssm_layers * (
        ssm_state_elements * ssm_state_bytes + conv_channels * (conv_kernel - 1) * act_bytes
    )


@formula(
    unit="byte/token",
    latex=r"m_{\mathrm{kv}}^{\mathrm{hyb}}",
    text="m_kv^hyb",
    source="hybrid models: only the attention layers keep keys and values",
    replaces="kv_bytes_per_token",
    feature="recurrent_state",
)
def kv_bytes_per_token_hybrid(kv_bytes_per_token, attention_layers):
    """KV-cache bytes per token of a hybrid model: the attention layers only.

    Examples
    --------
    >>> q = kv_bytes_per_token_hybrid(attention_layers=6, n_kv_heads=2, head_dim=128,
    ...                               kv_bytes="bf16")
    >>> print(f"{q:,.0f~P}")
    6,144 B/tok
    """
    return kv_bytes_per_token.at(layers=attention_layers)


@formula(
    unit="element/token",
    latex=r"w_{\mathrm{kv}}^{\mathrm{hyb}}",
    text="w_kv^hyb",
    source="DeepSeek-V2 technical report (arXiv:2405.04434), Table 1 (per layer); hybrid "
    "models: one attention layer",
    replaces="kv_width",
    feature="recurrent_state",
)
def kv_width_hybrid(kv_bytes_per_token_hybrid):
    """KV width of one attention layer of a hybrid model: the KV elements per token of a
    single attention layer.

    Examples
    --------
    >>> print(kv_width_hybrid(n_kv_heads=2, head_dim=256))
    1024.0 element/tok
    """
    return (
        kv_bytes_per_token_hybrid.at(attention_layers=1, kv_bytes=BYTE_PER_ELEMENT)
        / BYTE_PER_ELEMENT
    )


@formula(
    unit="byte",
    latex=r"M_{\mathrm{KV}}^{\mathrm{hyb}}",
    text="M_KV^hyb",
    source=f"hybrid models: attention KV per token plus recurrent state per sequence; {_VLLM}",
    replaces="kv_cache_bytes",
    feature="recurrent_state",
)
def kv_cache_bytes_hybrid(kv_cache_bytes, attention_layers, batch, state_bytes_per_sequence):
    """Cache of a hybrid model: the attention layers' KV for every cached token, plus the
    recurrent layers' state for every sequence.

    Notes
    -----
    - Replaces ``kv_cache_bytes``: the context term is small (few attention layers), the batch
      term does not depend on the context; so the longest context that fits is long, and the
      batch is what the memory bounds.

    Examples
    --------
    >>> q = kv_cache_bytes_hybrid(attention_layers=6, n_kv_heads=2, head_dim=128,
    ...       kv_bytes="bf16", seq_len=131072, batch=8, ssm_layers=23, ssm_inner=4096,
    ...       ssm_state_size=128, ssm_state_bytes="fp32", ssm_groups=8, conv_kernel=4,
    ...       act_bytes="bf16")
    >>> print(f"{q.to('GB'):.4g~P}")
    6.835 GB
    """
    return kv_cache_bytes.at(layers=attention_layers) + batch * state_bytes_per_sequence


@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{state}}",
    text="D_state",
    source=f"{_MAMBA2} (each step reads and updates the whole state); {_VLLM}",
)
def state_traffic(state_bytes_per_sequence):
    """Recurrent-state bytes moved per decoded token: the sequence's state read and written
    back once.

    Examples
    --------
    >>> print(state_traffic(state_bytes_per_sequence=24e6).to("MB/token"))
    48.0 MB/tok
    """
    return 2 * state_bytes_per_sequence


@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{KV}}^{\mathrm{hyb}}",
    text="D_KV^hyb",
    source="seed: Formula Summary / Bandwidth (KV read + KV write); the recurrent state read "
    "and written",
    replaces="kv_traffic",
    feature="recurrent_state",
)
def kv_traffic_hybrid(kv_traffic, attention_layers, state_traffic):
    """Cache bytes moved per decoded token of a hybrid model: the attention layers' KV read and
    write, and the recurrent state read and written.

    Examples
    --------
    >>> q = kv_traffic_hybrid(attention_layers=6, n_kv_heads=2, head_dim=128, kv_bytes="bf16",
    ...       prompt_len=9500, new_tokens=1000, ssm_layers=23, ssm_inner=4096,
    ...       ssm_state_size=128, ssm_state_bytes="fp32", ssm_groups=8, conv_kernel=4,
    ...       act_bytes="bf16")
    >>> print(f"{q.to('MB/token'):.4g~P}")
    159.6 MB/tok
    """
    return kv_traffic.at(layers=attention_layers) + state_traffic


# ----------------------------------------------------------------------------- compute
@formula(
    unit="FLOP",
    latex=r"C_{\mathrm{rec}}",
    text="C_rec",
    source=f"{_MAMBA2} (per token: decay and update the state, read it out)",
)
def recurrent_flops(ssm_layers, query_tokens, ssm_state_elements):
    """FLOPs of the recurrences over all recurrent layers: per token, each state value is
    decayed and updated (2 FLOP) and read out (2 FLOP).

    Notes
    -----
    - Linear in the tokens, not quadratic: what replaces attention in these layers.  Their
      projections and convolution are weights, counted in ``dense_flops``.
    - Chunked scans (SSD) spend more in prefill; this is the recurrence's own count.

    Examples
    --------
    >>> q = recurrent_flops(ssm_layers=24, query_tokens=1, ssm_inner=8192, ssm_state_size=128)
    >>> print(f"{q.to('MFLOP'):.4g~P}")
    100.7 MFLOP
    """
    return 4 * FLOP * ssm_layers * query_tokens * ssm_state_elements


@formula(
    unit="FLOP",
    latex=r"C_{\mathrm{rec}}^{\mathrm{GDN}}",
    text="C_rec^GDN",
    source=f"{_GDN} (delta rule: read S k, decay and update S, read out S q)",
    replaces="recurrent_flops",
    feature="gated_deltanet",
)
def recurrent_flops_deltanet(ssm_layers, query_tokens, ssm_state_elements_deltanet):
    """FLOPs of the Gated DeltaNet recurrences: per token each state value is read against the
    key (2 FLOP), decayed and updated (2 FLOP) and read out against the query (2 FLOP).

    Examples
    --------
    >>> q = recurrent_flops_deltanet(ssm_layers=36, query_tokens=1, linear_value_heads=32,
    ...                              linear_key_head_dim=128, linear_value_head_dim=128)
    >>> print(f"{q.to('MFLOP'):.4g~P}")
    113.2 MFLOP
    """
    return 6 * FLOP * ssm_layers * query_tokens * ssm_state_elements_deltanet


@formula(
    unit="FLOP",
    latex=r"C_{\mathrm{attn}}^{\mathrm{hyb}}",
    text="C_attn^hyb",
    source="hybrid models: attention in the attention layers, recurrences in the others",
    replaces="attention_flops",
    feature="recurrent_state",
)
def attention_flops_hybrid(attention_flops, attention_layers, recurrent_flops):
    """Sequence-mixing FLOPs of a hybrid model: attention over the context in the attention
    layers, the recurrence in the recurrent layers.

    Notes
    -----
    - In prefill the causal factor (1/2) applies to both terms; the recurrent term is linear
      and small, so halving it understates the total by little.

    Examples
    --------
    >>> q = attention_flops_hybrid(attention_layers=4, query_tokens=1, seq_len=100000,
    ...       hidden=4096, ssm_layers=24, ssm_inner=8192, ssm_state_size=128)
    >>> print(f"{q.to('GFLOP'):.4g~P}")
    6.654 GFLOP
    """
    return attention_flops.at(layers=attention_layers) + recurrent_flops


@formula(
    unit="byte",
    latex=r"M_{\mathrm{scores}}^{\mathrm{hyb}}",
    text="M_scores^hyb",
    source="hybrid models: attention scores only in the attention layers",
    replaces="attention_score_bytes",
    feature="recurrent_state",
)
def attention_score_bytes_hybrid(attention_score_bytes, attention_layers):
    """Attention-score bytes of a hybrid model's prefill: the attention layers only.

    Examples
    --------
    >>> q = attention_score_bytes_hybrid(attention_layers=4, n_heads=32, prompt_len=8192,
    ...                                  act_bytes="bf16", causal_factor=1)
    >>> print(f"{q.to('GB'):.4g~P}")
    68.72 GB
    """
    return attention_score_bytes.at(layers=attention_layers)


# ----------------------------------------------------------------------------- layouts
_TP_MAMBA = (
    "vLLM MambaMixer2 / GatedDeltaNet under tensor parallelism: projections, convolution and "
    "state split by heads over n_TP"
)


@formula(
    unit="parameter",
    latex=r"N_{\mathrm{layers,GPU}}^{\mathrm{hyb}}",
    text="N_layers,GPU^hyb",
    source=f"{_TP_MAMBA}; Megatron-LM tensor parallelism (attention)",
    replaces="layer_params_per_gpu",
    feature="recurrent_state",
)
def layer_params_per_gpu_hybrid(
    layers_per_stage,
    layers,
    attention_layers,
    attention_params_per_gpu,
    ssm_layers,
    ssm_params,
    tp,
    layer_norm_params,
):
    """Mixer and norm weights one GPU holds for its stage's layers of a hybrid model: its
    share of the attention layers (split by heads) and of the recurrent layers, whose mixers
    are split by heads over n_TP too (their small per-head vectors and norm with them), and
    the norms, replicated.

    Notes
    -----
    - Replaces ``layer_params_per_gpu`` in ``params_per_gpu`` and ``active_params_per_gpu``:
      at n_TP = n_PP = n_EP = 1 they are the architecture's counts, exactly.

    Examples
    --------
    >>> q = layer_params_per_gpu_hybrid(layers=52, attention_layers=6, hidden=2688,
    ...       n_heads=32, n_kv_heads=2, head_dim=128, ssm_layers=23, ssm_inner=4096,
    ...       ssm_groups=8, ssm_state_size=128, ssm_heads=64, conv_kernel=4, norms_per_layer=1,
    ...       tp=2, pp=1)
    >>> print(f"{q.to('Gparam'):.4g~P}")
    0.5159 Gparam
    """
    return (
        layers_per_stage
        / layers
        * (
            attention_layers * attention_params_per_gpu
            + ssm_layers * ssm_params / tp
            + layers * layer_norm_params
        )
    )


@formula(
    unit="byte",
    latex=r"M_{\mathrm{KV,GPU}}^{\mathrm{hyb}}",
    text="M_KV,GPU^hyb",
    source=f"{_TP_MAMBA}; {_VLLM}",
    replaces="kv_cache_per_gpu",
    feature="recurrent_state",
)
def kv_cache_per_gpu_hybrid(
    kv_cache_bytes,
    attention_layers,
    kv_heads_per_gpu,
    batch,
    attention_groups,
    state_bytes_per_sequence,
    tp,
    layers_per_stage,
    layers,
):
    """Cache bytes one GPU of a hybrid model holds: the KV of its KV heads in the attention
    layers, and its share (1 / n_TP, by heads) of the recurrent state, for its attention
    group's sequences and its stage's share of the layers.

    Examples
    --------
    >>> q = kv_cache_per_gpu_hybrid(attention_layers=6, n_kv_heads=2, head_dim=128,
    ...       kv_bytes="bf16", seq_len=131072, batch=8, ssm_layers=23, ssm_inner=4096,
    ...       ssm_state_size=128, ssm_state_bytes="fp32", ssm_groups=8, conv_kernel=4,
    ...       act_bytes="bf16", tp=2, ep=1, pp=1)
    >>> print(f"{q.to('GB'):.4g~P}")
    3.418 GB
    """
    sequences = batch / attention_groups
    return (
        (
            kv_cache_bytes.at(layers=attention_layers, n_kv_heads=kv_heads_per_gpu, batch=sequences)
            + sequences * state_bytes_per_sequence / tp
        )
        * layers_per_stage
        / layers
    )


@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{KV,GPU}}^{\mathrm{hyb}}",
    text="D_KV,GPU^hyb",
    source=f"{_TP_MAMBA}; {_VLLM}",
    replaces="kv_traffic_per_gpu",
    feature="recurrent_state",
)
def kv_traffic_per_gpu_hybrid(
    kv_traffic, attention_layers, kv_heads_per_gpu, state_traffic, tp, layers_per_stage, layers
):
    """Cache bytes one GPU of a hybrid model moves per decoded token of a sequence: the KV
    traffic of its KV heads in the attention layers and its share of the recurrent state read
    and written, for its stage's share of the layers.

    Examples
    --------
    >>> q = kv_traffic_per_gpu_hybrid(attention_layers=6, n_kv_heads=2, head_dim=128,
    ...       kv_bytes="bf16", prompt_len=10000, new_tokens=0, ssm_layers=23, ssm_inner=4096,
    ...       ssm_state_size=128, ssm_state_bytes="fp32", ssm_groups=8, conv_kernel=4,
    ...       act_bytes="bf16", tp=2, pp=1)
    >>> print(f"{q.to('MB/token'):.4g~P}")
    79.81 MB/tok
    """
    return (
        (kv_traffic.at(layers=attention_layers, n_kv_heads=kv_heads_per_gpu) + state_traffic / tp)
        * layers_per_stage
        / layers
    )


# ----------------------------------------------------------------------------- attention-free
@formula(
    unit="parameter",
    latex=r"N_{\mathrm{arch}}^{\mathrm{SSM}}",
    text="N_arch^SSM",
    source=f"{_MAMBA1}; {_MAMBA2} (a block: one norm and one mixer; no attention, no MLP)",
    replaces="param_count_hybrid",
    feature="attention_free",
)
def param_count_ssm(
    embedding_matrices,
    embedding_params,
    ssm_layers,
    ssm_params,
    layers,
    layer_norm_params,
    final_norm_params,
):
    """Total parameters of an attention-free state-space model (Mamba, Mamba-2): embeddings,
    each block's norm and recurrent mixer, and the final norm.

    Notes
    -----
    - Replaces ``param_count_hybrid``: no attention layer, and no feed-forward block (the
      mixer's gated projections do that work).
    - mamba-2.8b: 2,768,345,600 (tied head); Mamba-Codestral-7B: 7,285,403,648.

    Examples
    --------
    >>> q = param_count_ssm(embedding_matrices=2, vocab_size=32768, hidden=4096,
    ...       ssm_layers=64, ssm_inner=8192, ssm_groups=8, ssm_state_size=128, ssm_heads=128,
    ...       conv_kernel=4, layers=64, norms_per_layer=1)
    >>> print(f"{q:,.0f~P}")
    7,285,403,648 param
    """
    return (
        embedding_matrices * embedding_params
        + ssm_layers * ssm_params
        + layers * layer_norm_params
        + final_norm_params
    )


@formula(
    unit="byte",
    latex=r"M_{\mathrm{state}}^{\mathrm{all}}",
    text="M_state^all",
    source=f"{_VLLM}: an attention-free model keeps only its recurrent state",
    replaces="kv_cache_bytes_hybrid",
    feature="attention_free",
)
def kv_cache_bytes_ssm(batch, state_bytes_per_sequence):
    """Cache of an attention-free model: each sequence's recurrent state, whatever its length
    (no token is cached).

    Examples
    --------
    >>> q = kv_cache_bytes_ssm(batch=8, ssm_layers=64, ssm_inner=8192, ssm_state_size=128,
    ...       ssm_state_bytes="fp32", ssm_groups=8, conv_kernel=4, act_bytes="bf16")
    >>> print(f"{q.to('GB'):.4g~P}")
    2.179 GB
    """
    return batch * state_bytes_per_sequence


@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{KV}}^{\mathrm{SSM}}",
    text="D_KV^SSM",
    source=f"{_MAMBA2} (each step reads and updates the whole state)",
    replaces="kv_traffic_hybrid",
    feature="attention_free",
)
def kv_traffic_ssm(state_traffic):
    """Cache bytes moved per decoded token of an attention-free model: its state, read and
    written back, and nothing that grows with the context.

    Examples
    --------
    >>> print(kv_traffic_ssm(state_traffic=137e6).to("MB/token"))
    137.0 MB/tok
    """
    return state_traffic


@formula(
    unit="FLOP",
    latex=r"C_{\mathrm{mix}}^{\mathrm{SSM}}",
    text="C_mix^SSM",
    source=f"{_MAMBA2} (the recurrence replaces attention in every layer)",
    replaces="attention_flops_hybrid",
    feature="attention_free",
)
def attention_flops_ssm(recurrent_flops):
    """Sequence-mixing FLOPs of an attention-free model: the recurrences alone, linear in the
    tokens.

    Examples
    --------
    >>> q = attention_flops_ssm(ssm_layers=64, query_tokens=1, ssm_inner=8192,
    ...                         ssm_state_size=128)
    >>> print(f"{q.to('MFLOP'):.4g~P}")
    268.4 MFLOP
    """
    return recurrent_flops


@formula(
    unit="byte",
    latex=r"D_{\mathrm{prefill}}^{\mathrm{SSM}}",
    text="D_prefill^SSM",
    source="Williams, Waterman & Patterson, 'Roofline' (CACM 2009); an attention-free model "
    "writes each prompt's state once",
    replaces="prefill_bytes",
    feature="attention_free",
)
def prefill_bytes_ssm(weight_bytes, batch, state_bytes_per_sequence):
    """HBM bytes one prefill step of an attention-free model moves: the weights once and each
    prompt's final state (no KV cache, no attention scores).

    Examples
    --------
    >>> q = prefill_bytes_ssm(params=7.3e9, bytes_per_param="bf16", batch=1, ssm_layers=64,
    ...       ssm_inner=8192, ssm_state_size=128, ssm_state_bytes="fp32", ssm_groups=8,
    ...       conv_kernel=4, act_bytes="bf16")
    >>> print(f"{q.to('GB'):.4g~P}")
    14.87 GB
    """
    return weight_bytes + batch * state_bytes_per_sequence


@formula(
    unit="parameter",
    latex=r"N_{\mathrm{layers,GPU}}^{\mathrm{SSM}}",
    text="N_layers,GPU^SSM",
    source=_TP_MAMBA,
    replaces="layer_params_per_gpu_hybrid",
    feature="attention_free",
)
def layer_params_per_gpu_ssm(layers_per_stage, ssm_params, tp, layer_norm_params):
    """Mixer and norm weights one GPU holds for its stage's blocks of an attention-free model:
    the mixers split by heads over n_TP, the norms replicated.

    Examples
    --------
    >>> q = layer_params_per_gpu_ssm(layers=64, pp=1, hidden=4096, ssm_inner=8192,
    ...       ssm_groups=8, ssm_state_size=128, ssm_heads=128, conv_kernel=4,
    ...       norms_per_layer=1, tp=2)
    >>> print(f"{q.to('Gparam'):.4g~P}")
    3.509 Gparam
    """
    return layers_per_stage * (ssm_params / tp + layer_norm_params)


@formula(
    unit="parameter",
    latex=r"N_{\mathrm{GPU}}^{\mathrm{SSM}}",
    text="N_GPU^SSM",
    source=f"{_TP_MAMBA}; Megatron-LM (vocabulary-parallel embeddings)",
    replaces="params_per_gpu",
    feature="attention_free",
)
def params_per_gpu_ssm(embedding_params_per_gpu, layer_params_per_gpu_ssm, final_norm_params):
    """Parameters one GPU of an attention-free model holds: its share of the embeddings, its
    stage's blocks, the final norm (no feed-forward blocks).

    Examples
    --------
    >>> q = params_per_gpu_ssm(embedding_matrices=2, vocab_size=32768, hidden=4096,
    ...       layers=64, ssm_inner=8192, ssm_groups=8, ssm_state_size=128, ssm_heads=128,
    ...       conv_kernel=4, norms_per_layer=1, tp=1, pp=1)
    >>> print(f"{q:,.0f~P}")
    7,285,403,648 param
    """
    return embedding_params_per_gpu + layer_params_per_gpu_ssm + final_norm_params


@formula(
    unit="parameter",
    latex=r"N_{\mathrm{a,GPU}}^{\mathrm{SSM}}",
    text="N_a,GPU^SSM",
    source=f"{_TP_MAMBA}; Megatron-LM (vocabulary-parallel output head)",
    replaces="active_params_per_gpu",
    feature="attention_free",
)
def active_params_per_gpu_ssm(embedding_params, tp, layer_params_per_gpu_ssm, final_norm_params):
    """Parameters one GPU of an attention-free model multiplies with per token: its share of
    the output head, its stage's blocks, the final norm.

    Examples
    --------
    >>> q = active_params_per_gpu_ssm(vocab_size=32768, hidden=4096, layers=64,
    ...       ssm_inner=8192, ssm_groups=8, ssm_state_size=128, ssm_heads=128, conv_kernel=4,
    ...       norms_per_layer=1, tp=1, pp=1)
    >>> print(f"{q:,.0f~P}")
    7,151,185,920 param
    """
    return embedding_params / tp + layer_params_per_gpu_ssm + final_norm_params


@formula(
    unit="byte",
    latex=r"M_{\mathrm{KV,GPU}}^{\mathrm{SSM}}",
    text="M_KV,GPU^SSM",
    source=f"{_TP_MAMBA}; {_VLLM}",
    replaces="kv_cache_per_gpu_hybrid",
    feature="attention_free",
)
def kv_cache_per_gpu_ssm(
    batch, attention_groups, state_bytes_per_sequence, tp, layers_per_stage, layers
):
    """Cache bytes one GPU of an attention-free model holds: its share (1 / n_TP, by heads) of
    its sequences' state, for its stage's share of the blocks.

    Examples
    --------
    >>> q = kv_cache_per_gpu_ssm(batch=8, ssm_layers=64, ssm_inner=8192, ssm_state_size=128,
    ...       ssm_state_bytes="fp32", ssm_groups=8, conv_kernel=4, act_bytes="bf16", tp=2,
    ...       ep=1, pp=1)
    >>> print(f"{q.to('GB'):.4g~P}")
    1.089 GB
    """
    return batch / attention_groups * state_bytes_per_sequence / tp * layers_per_stage / layers


@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{KV,GPU}}^{\mathrm{SSM}}",
    text="D_KV,GPU^SSM",
    source=f"{_TP_MAMBA}; {_VLLM}",
    replaces="kv_traffic_per_gpu_hybrid",
    feature="attention_free",
)
def kv_traffic_per_gpu_ssm(state_traffic, tp, layers_per_stage, layers):
    """Cache bytes one GPU of an attention-free model moves per decoded token of a sequence:
    its share of the state, read and written, for its stage's share of the blocks.

    Examples
    --------
    >>> q = kv_traffic_per_gpu_ssm(ssm_layers=64, ssm_inner=8192, ssm_state_size=128,
    ...       ssm_state_bytes="bf16", ssm_groups=8, conv_kernel=4, act_bytes="bf16", tp=2, pp=1)
    >>> print(f"{q.to('MB/token'):.4g~P}")
    138.1 MB/tok
    """
    return state_traffic / tp * layers_per_stage / layers
