"""HAND-WRITTEN NUMPY BASELINES, FOR THE BENCHMARK ONLY.

Each function below re-types one formula in plain numpy, the way a person would write it
without llmphys, so that ``run.py`` can time the compiled formula against it.  This is the one
place in the project where a formula is written twice, on purpose: it is the yardstick, never
used to compute anything else.  ``run.py`` checks that each baseline returns the same numbers
as the formula (relative 1e-12) before timing it, so a stale baseline fails loudly instead of
timing something different.

Parameters are named after the glossary symbols; ``run.py`` passes them by name.
"""

from __future__ import annotations

__all__ = ["BASELINES"]


def kv_cache_bytes(layers, n_kv_heads, head_dim, seq_len, batch, kv_bytes):
    return 2 * layers * n_kv_heads * head_dim * kv_bytes * seq_len * batch


def total_vram(
    params, layers, n_kv_heads, head_dim, seq_len, batch, bytes_per_param, kv_bytes,
    workspace_fraction,
):  # fmt: skip
    weights = params * bytes_per_param
    kv_cache = 2 * layers * n_kv_heads * head_dim * kv_bytes * seq_len * batch
    return weights + kv_cache + workspace_fraction * weights


def memory_per_gpu(
    params, layers, n_kv_heads, head_dim, seq_len, batch, bytes_per_param, kv_bytes, n_gpus,
    workspace_fraction,
):  # fmt: skip
    weights = params * bytes_per_param
    kv_cache = 2 * layers * n_kv_heads * head_dim * kv_bytes * seq_len * batch
    return (weights + kv_cache + workspace_fraction * weights) / n_gpus


def qkv_projection_flops(hidden, tokens):
    return 6 * hidden**2 * tokens


def decode_flops(active_params, layers, prompt_len, new_tokens, hidden):
    avg_seq_len = prompt_len + new_tokens / 2
    return 2 * active_params + 4 * layers * hidden * avg_seq_len


def bandwidth_optimistic(
    active_params, layers, n_kv_heads, head_dim, prompt_len, new_tokens, batch,
    bytes_per_param, kv_bytes, throughput, cache_hit,
):  # fmt: skip
    kv_per_token = 2 * layers * n_kv_heads * head_dim * kv_bytes
    avg_seq_len = prompt_len + new_tokens / 2
    weight_read = active_params * bytes_per_param / batch
    kv_traffic = kv_per_token * avg_seq_len + kv_per_token
    return ((1 - cache_hit) * weight_read + kv_traffic) * throughput


def arithmetic_intensity(
    active_params, layers, n_kv_heads, head_dim, prompt_len, new_tokens, batch, hidden,
    bytes_per_param, kv_bytes,
):  # fmt: skip
    avg_seq_len = prompt_len + new_tokens / 2
    flops = 2 * active_params + 4 * layers * hidden * avg_seq_len
    kv_per_token = 2 * layers * n_kv_heads * head_dim * kv_bytes
    moved = active_params * bytes_per_param / batch + kv_per_token * avg_seq_len + kv_per_token
    return flops / moved


def moe_weight_read(
    active_params, batch, hidden, bytes_per_param, n_experts, experts_per_token,
    moe_intermediate_size, moe_layers,
):  # fmt: skip
    # experts the other B - 1 tokens reach beyond one token's k, under uniform routing
    extra = (n_experts - experts_per_token) * (
        1 - (1 - experts_per_token / n_experts) ** (batch - 1)
    )
    expert_params = 3 * hidden * moe_intermediate_size
    return (active_params + moe_layers * extra * expert_params) * bytes_per_param


#: formula name -> hand-written numpy version (same parameter names as the formula's inputs)
BASELINES = {
    f.__name__: f
    for f in (
        kv_cache_bytes,
        total_vram,
        memory_per_gpu,
        qkv_projection_flops,
        decode_flops,
        bandwidth_optimistic,
        arithmetic_intensity,
        moe_weight_read,
    )
}
