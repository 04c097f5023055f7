"""Compute: FLOPs of the forward pass, prefill and decode (seed: Transformer Forward Pass)."""

from __future__ import annotations

from llmphys import symbols  # noqa: F401  (the glossary entries used below)
from llmphys.engine import formula
from llmphys.units import unit_symbol

__all__ = [
    "FLOP",
    "attention_flops",
    "av_flops",
    "avg_seq_len",
    "decode_flop_rate",
    "decode_flops",
    "dense_flops",
    "effective_flops",
    "prefill_flops",
    "qk_flops",
    "qkv_projection_flops",
]

#: the unit constant behind "2 FLOP per parameter per token"
FLOP = unit_symbol("FLOP")


@formula(
    unit="FLOP",
    latex=r"C_{\mathrm{dense}}",
    source="seed: Transformer Forward Pass / Compute / Dense Layer (Feed-Forward)",
)
def dense_flops(active_params, tokens):
    """Matmul FLOPs of a forward pass: 2 FLOP per active parameter per token.

    Notes
    -----
    - Every weight takes part once per token in a matrix product ``W @ x``.
    - Each multiply-accumulate is 2 FLOP: one multiply and one add.
    - Counts every projection (Q, K, V, output, FFN); the attention products QK^T and AV
      involve no weights and are counted by ``attention_flops``.

    Examples
    --------
    >>> print(dense_flops(active_params=70e9, tokens=1).to("GFLOP"))
    140.0 GFLOP
    """
    return 2 * FLOP * active_params * tokens


@formula(
    unit="FLOP",
    latex=r"C_{\mathrm{QKV}}",
    source="seed: Transformer Forward Pass / Attention / Q, K, V projections",
)
def qkv_projection_flops(hidden, tokens):
    """FLOPs of the Q, K and V projections of one layer (multi-head attention).

    Notes
    -----
    - Three d x d linear layers, each 2 FLOP per weight per token.
    - Already part of ``dense_flops`` (they are weights); shown separately because they are
      the attention block's linear cost, as opposed to its quadratic one.
    - Written for full multi-head attention, as the seed is.  With grouped-query attention the
      K and V projections are n_kv d_h wide instead of d, so they cost less.

    Examples
    --------
    >>> print(f"{qkv_projection_flops(hidden=8192, tokens=1).to('MFLOP'):.4g~P}")
    402.7 MFLOP
    """
    return 3 * 2 * FLOP * hidden**2 * tokens


@formula(
    unit="FLOP",
    latex=r"C_{QK^{\top}}",
    text="C_QK",
    source="seed: Transformer Forward Pass / Attention / QK^T",
)
def qk_flops(query_tokens, seq_len, hidden):
    """FLOPs of the attention scores QK^T in one layer.

    Notes
    -----
    - (n_q x d) @ (d x S): n_q S d multiply-accumulates, 2 FLOP each.
    - Quadratic in the prompt during prefill (n_q = S), linear in the context during decode
      (n_q = 1).
    - The seed's count: d = hidden (all heads together); causal masking is not applied.

    Examples
    --------
    >>> q = qk_flops(query_tokens=10000, seq_len=10000, hidden=8192)
    >>> print(f"{q.to('TFLOP'):.5g~P}")
    1.6384 TFLOP
    """
    return 2 * FLOP * query_tokens * seq_len * hidden


@formula(
    unit="FLOP",
    latex=r"C_{AV}",
    source="seed: Transformer Forward Pass / Attention / Attention @ V",
)
def av_flops(query_tokens, seq_len, hidden):
    """FLOPs of weighting the values by the attention probabilities (A @ V) in one layer.

    Notes
    -----
    - (n_q x S) @ (S x d): n_q S d multiply-accumulates, 2 FLOP each.
    - Same shape as QK^T under the seed's assumptions; it differs when the value head width
      differs from the query/key width (DeepSeek's MLA: 128 vs 192).

    Examples
    --------
    >>> print(av_flops(query_tokens=1, seq_len=10000, hidden=8192).to("MFLOP"))
    163.84 MFLOP
    """
    return 2 * FLOP * query_tokens * seq_len * hidden


@formula(
    unit="FLOP",
    latex=r"C_{\mathrm{attn}}",
    source="seed: Transformer Forward Pass / Attention (simplified per layer 4 seq^2 hidden)",
)
def attention_flops(layers, qk_flops, av_flops):
    """Attention FLOPs over all layers: QK^T plus AV, per layer, times the layers.

    Notes
    -----
    - With n_q = S this is the seed's simplified ``4 * seq^2 * hidden`` per layer.
    - The softmax (about S^2 operations) is left out, as the seed does: it is small next to
      the two matrix products.
    - Why quadratic hurts: a 10x longer prompt costs 100x more attention.

    Examples
    --------
    >>> q = attention_flops(layers=80, query_tokens=10000, seq_len=10000, hidden=8192)
    >>> print(f"{q.to('TFLOP'):.6g~P}")
    262.144 TFLOP
    """
    return layers * (qk_flops + av_flops)


@formula(
    unit="FLOP",
    latex=r"C_{\mathrm{prefill}}",
    source="seed: Transformer Forward Pass / Total Prefill FLOPs",
)
def prefill_flops(dense_flops, attention_flops, prompt_len, causal_factor):
    """FLOPs to prefill a prompt: the dense pass over every prompt token plus attention.

    Notes
    -----
    - All prompt tokens go through the model at once (n_tok = S_p).
    - Every prompt token attends to the prompt (n_q = S = S_p).  The seed counts all S_p^2
      scores (c = 1); a causal model only needs the lower triangle, c = 1/2, which halves the
      attention term and nothing else.
    - Seed example, Llama 3.1 70B at 10K tokens: 1.4e15 + 2.6e14 = 1.66e15 FLOP.

    Examples
    --------
    >>> q = prefill_flops(active_params=70e9, layers=80, prompt_len=10000, hidden=8192,
    ...                   causal_factor=1)
    >>> print(f"{q.to('PFLOP'):.3g~P}")
    1.66 PFLOP
    """
    return dense_flops.at(tokens=prompt_len) + causal_factor * attention_flops.at(
        query_tokens=prompt_len, seq_len=prompt_len
    )


@formula(
    unit="token",
    latex=r"\bar{S}",
    text="S_avg",
    source="seed: Transformer Forward Pass / Total Decode FLOPs (avg_seq)",
)
def avg_seq_len(prompt_len, new_tokens):
    """Average context length seen while generating: the prompt plus half the new tokens.

    Notes
    -----
    - The context grows from S_p to S_p + S_new during generation; its mean is S_p + S_new/2.

    Examples
    --------
    >>> print(avg_seq_len(prompt_len=10000, new_tokens=1000))
    10500.0 tok
    """
    return prompt_len + new_tokens / 2


@formula(
    unit="FLOP/token",
    latex=r"C_{\mathrm{decode}}",
    source="seed: Transformer Forward Pass / Total Decode FLOPs (per token)",
)
def decode_flops(dense_flops, attention_flops, avg_seq_len):
    """FLOPs to decode one token: the dense pass for 1 token plus 1 query attending the context.

    Notes
    -----
    - One new token goes through the model (n_tok = 1).
    - Its single query attends to the average context (n_q = 1, S = S_avg).
    - Seed example, Llama 3.1 70B at a 10K context: 140 + 26 = 166 GFLOP per token.

    Examples
    --------
    >>> q = decode_flops(active_params=70e9, layers=80, avg_seq_len=10000, hidden=8192)
    >>> print(f"{q.to('GFLOP/token'):.3g~P}")
    166 GFLOP/tok
    """
    return dense_flops.at(tokens=1) + attention_flops.at(query_tokens=1, seq_len=avg_seq_len)


@formula(
    unit="FLOP/second",
    latex=r"F_{\mathrm{req}}",
    source="seed: Formula Summary / Compute (TFLOPS = Decode_FLOPs * throughput)",
)
def decode_flop_rate(decode_flops, throughput):
    """FLOP rate needed to decode at a throughput: FLOPs per token times tokens per second.

    Notes
    -----
    - A rate (FLOP/s), not a total: compare it with the accelerator's effective FLOP rate.
    - Seed example: 166 GFLOP per token at 10 tok/s needs 1.66 TFLOP/s.

    Examples
    --------
    >>> q = decode_flop_rate(decode_flops=166e9, throughput=10)
    >>> print(q.to("TFLOPS"))
    1.66 TFLOPS
    """
    return decode_flops * throughput


@formula(
    unit="FLOP/second",
    latex=r"F_{\mathrm{eff}}",
    source="seed: Validation Examples (A100: 312 TFLOPS peak x 0.4 util = 125 TFLOPS)",
)
def effective_flops(peak_flops, utilization):
    """Effective FLOP rate: the peak dense rate times the achieved utilization (MFU).

    Notes
    -----
    - Datasheet peaks are not reached by real kernels; the seed assumes 40 %.
    - Use the dense peak: NVIDIA's H100/H200/B200 datasheets print the 2:4-sparse figure,
      twice the dense one.

    Examples
    --------
    >>> print(effective_flops(peak_flops=312e12, utilization=0.4).to("TFLOPS"))
    124.8 TFLOPS
    """
    return peak_flops * utilization
