"""Memory: weights, KV cache, workspace and their total (seed: Memory Hierarchy)."""

from __future__ import annotations

from llmphys import symbols  # noqa: F401  (the glossary entries used below)
from llmphys.engine import formula

__all__ = [
    "active_weight_bytes",
    "kv_bytes_per_token",
    "kv_cache_bytes",
    "memory_per_gpu",
    "total_vram",
    "weight_bytes",
    "workspace_bytes",
]


@formula(
    unit="byte",
    latex=r"M_{\mathrm{w}}",
    source="seed: Memory Hierarchy / Model Weights",
)
def weight_bytes(params, bytes_per_param):
    """Bytes of the model weights: parameters times bytes per parameter.

    Notes
    -----
    - The weights must sit in HBM/VRAM: streaming them from the CPU is too slow for real-time
      decoding.
    - Precisions: BF16/FP16 2 bytes, FP8/INT8 1 byte, INT4 0.5 bytes per parameter.
    - For a mixture of experts this takes the *total* parameters: every expert is loaded.
    - Seed example, Llama 3.1 70B in BF16: 70e9 x 2 = 140 GB (130 GiB).

    Examples
    --------
    >>> print(weight_bytes(params=70e9, bytes_per_param="bf16").to("GB"))
    140.0 GB
    """
    return params * bytes_per_param


@formula(
    unit="byte",
    latex=r"M_{\mathrm{w,a}}",
    source="seed: MoE / Resource Implications / Bandwidth (active_bytes)",
)
def active_weight_bytes(active_params, bytes_per_param):
    """Bytes of the weights one token uses: the weight bytes at the active parameter count.

    Notes
    -----
    - Equal to the weight bytes for a dense model.
    - For a mixture of experts, only the routed-in experts (plus the shared layers) are used
      per token: DeepSeek-V3 uses 37B of its 671B parameters.

    Examples
    --------
    >>> print(active_weight_bytes(active_params=37e9, bytes_per_param="bf16").to("GB"))
    74.0 GB
    """
    return active_params * bytes_per_param


@formula(
    unit="byte/token",
    latex=r"m_{\mathrm{kv}}",
    source="seed: Memory Hierarchy / KV Cache (formula per token); "
    "DeepSeek-V2 report, Table 1 (MHA/GQA/MQA rows)",
)
def kv_bytes_per_token(layers, n_kv_heads, head_dim, kv_bytes):
    """KV-cache bytes per cached token: K and V, for every layer and KV head.

    Notes
    -----
    - Factor 2: separate K and V tensors are cached.
    - Width per layer is n_kv x d_h.  Full multi-head attention (the seed's assumption) has
      n_kv x d_h = hidden; grouped-query attention keeps fewer KV heads (Llama 3.1 70B: 8 of
      64), multi-query attention keeps one.
    - The seed's ``layers * hidden * 2 * bytes`` is the instance n_kv = 64, d_h = 128 of
      Llama 3.1 70B: 2.6 MB per token; the real GQA model caches 8x less.

    Examples
    --------
    >>> q = kv_bytes_per_token(layers=80, n_kv_heads=8, head_dim=128, kv_bytes="bf16")
    >>> print(q.to("kB/token"))
    327.68 kB/tok
    """
    return 2 * layers * n_kv_heads * head_dim * kv_bytes


@formula(
    unit="byte",
    latex=r"M_{\mathrm{KV}}",
    source="seed: Memory Hierarchy / KV Cache (total cache)",
)
def kv_cache_bytes(kv_bytes_per_token, seq_len, batch):
    """Bytes of the KV cache: bytes per token times cached tokens times sequences.

    Notes
    -----
    - Grows linearly with the context and with the batch.
    - Without a cache, every new token would recompute attention over the whole history
      (O(S^2) per token); with it, only the new token's K and V are computed (O(S)).
    - Seed example (MHA, 10K context, BF16, batch 1): 26.2 GB; batch 8: 210 GB.  The real
      Llama 3.1 70B (GQA, 8 KV heads) caches 3.28 GB at 10K tokens.

    Examples
    --------
    >>> q = kv_cache_bytes(layers=80, n_kv_heads=8, head_dim=128, kv_bytes="bf16",
    ...                    seq_len=32768, batch=1)
    >>> print(q.to("GiB"))
    10.0 GiB
    """
    return kv_bytes_per_token * seq_len * batch


@formula(
    unit="byte",
    latex=r"M_{\mathrm{ws}}",
    source="seed: Memory Hierarchy / Workspace / Activations",
)
def workspace_bytes(workspace_fraction, weight_bytes):
    """Workspace for the forward pass (activations, buffers), estimated as a weight fraction.

    Notes
    -----
    - Activations of a layer are about B x S x d x bytes, freed layer by layer.
    - Training would add gradients and optimizer states (about 2x weights each); inference
      does not.
    - Inference workspace is much smaller, 10-15 % of the weights; the seed takes 12 %.

    Examples
    --------
    >>> print(workspace_bytes(workspace_fraction=0.12, weight_bytes=140e9).to("GB"))
    16.8 GB
    """
    return workspace_fraction * weight_bytes


@formula(
    unit="byte",
    latex=r"M_{\mathrm{total}}",
    source="seed: Memory Hierarchy / Total VRAM",
)
def total_vram(weight_bytes, kv_cache_bytes, workspace_bytes):
    """Accelerator memory needed: weights plus KV cache plus workspace.

    Notes
    -----
    - Seed example, Llama 3.1 70B (10K context, batch 1, MHA figures): 140 + 26 + 17 = 183 GB,
      a tight fit on 3x A100 80GB.

    Examples
    --------
    >>> q = total_vram(weight_bytes=140e9, kv_cache_bytes=26.2144e9, workspace_bytes=16.8e9)
    >>> print(f"{q.to('GB'):.4g~P}")
    183 GB
    """
    return weight_bytes + kv_cache_bytes + workspace_bytes


@formula(
    unit="byte",
    latex=r"M_{\mathrm{per\,GPU}}",
    text="M_per_GPU",
    source="seed: Memory Hierarchy / Model Weights ('Fits on: 2x A100 80GB') and Total VRAM",
)
def memory_per_gpu(total_vram, n_gpus):
    """Memory each accelerator holds when the total is spread evenly over n_GPU of them.

    Notes
    -----
    - The seed's "fits on 2x A100" and "3x A100 with tight fit" compare this with one
      accelerator's capacity.
    - An even split is the ideal; tensor parallelism replicates some parts (norms, and KV heads
      when there are fewer than GPUs), which the parallelism formulas count.

    Examples
    --------
    >>> q = memory_per_gpu(total_vram=183e9, n_gpus=3)
    >>> print(f"{q.to('GB'):.3g~P}")
    61 GB
    """
    return total_vram / n_gpus
