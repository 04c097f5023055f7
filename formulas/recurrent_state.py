"""Recurrent state: what a recurrent layer keeps per sequence instead of a KV cache, the bytes
it moves per token and the FLOPs of its recurrence.

A Mamba layer keeps d_in x N state values and the last K - 1 inputs of its convolution; a Gated
DeltaNet layer one d_k x d_v matrix per value head.  The state does not grow with the context:
a hybrid model's cache is the attention layers' KV per token plus the state per sequence
(``kv_cache_bytes_hybrid``), and each decoded token reads and writes the whole state
(``state_traffic``).  The recurrence is linear in the tokens (``recurrent_flops``): what
replaces attention in these layers.  The layers and their weights are in
:mod:`llmphys.recurrent`.
"""

from __future__ import annotations

from llmphys import (  # noqa: F401  (the parts used below)
    attention,
    bandwidth,
    compute,
    latency,
    memory,
)
from llmphys.attention import BYTE_PER_ELEMENT
from llmphys.engine import formula
from llmphys.recurrent import GATED_DELTANET, MAMBA1, MAMBA2, VLLM_STATE
from llmphys.units import unit_symbol

FLOP = unit_symbol("FLOP")

__all__ = [
    "attention_flops_hybrid",
    "attention_score_bytes_hybrid",
    "conv_channels",
    "conv_channels_deltanet",
    "conv_channels_mamba1",
    "kv_bytes_per_token_hybrid",
    "kv_cache_bytes_hybrid",
    "kv_traffic_hybrid",
    "kv_width_hybrid",
    "recurrent_flops",
    "recurrent_flops_deltanet",
    "ssm_state_elements",
    "ssm_state_elements_deltanet",
    "state_bytes_per_sequence",
    "state_traffic",
]


# ----------------------------------------------------------------------------- state
@formula(
    unit="element",
    latex=r"C_{\mathrm{conv}}",
    source=f"{MAMBA2} (conv over x, B and C: d_in + 2 G N channels)",
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
    source=f"{MAMBA1} (conv over the d_in inputs)",
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
    source=f"{GATED_DELTANET} (conv over queries, keys and values)",
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
    source=f"{MAMBA2}; {VLLM_STATE} (temporal state: heads x head_dim x d_state)",
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
    source=f"{GATED_DELTANET}; {VLLM_STATE} (temporal state: H_v x d_v x d_k)",
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
    source=f"{VLLM_STATE}; config mamba_ssm_cache_dtype (state precision)",
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
    source=f"hybrid models: attention KV per token plus recurrent state per sequence; {VLLM_STATE}",
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
    source=f"{MAMBA2} (each step reads and updates the whole state); {VLLM_STATE}",
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
    source=f"{MAMBA2} (per token: decay and update the state, read it out)",
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
    source=f"{GATED_DELTANET} (delta rule: read S k, decay and update S, read out S q)",
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
