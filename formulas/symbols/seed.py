"""The seed's symbols: every input the seed's formulas use.

Each entry: python name (the keyword argument), conventional display symbol (LaTeX and plain
text), unit (plain numbers given for the symbol are read in it), meaning, domain, whether it is a
whole number, a default and a typical slider range.

Defaults are the seed's running example: Llama 3.1 70B (80 layers, hidden 8192, 8 KV heads of
128 as the real model has), a 10K-token context, batch 1, BF16, served on an A100 80GB
(312 TFLOPS dense BF16, 2,039 GB/s) at the seed's 0.4 / 0.6 utilizations.  The seed's own
multi-head KV figures are the instance ``n_kv_heads=64`` (64 x 128 = hidden).

Order matters: formulas print their factors in this order (``2 L n_kv d_h S B b_kv``).
Tokens, parameters, sequences and elements are named dimensionless counts (see the top of
``units/definitions.txt`` for why).
"""

from __future__ import annotations

from llmphys.engine.glossary import Entry, glossary
from llmphys.precisions import PRECISIONS

__all__ = ["INPUTS"]

# fmt: off
INPUTS: tuple[Entry, ...] = (
    # ------------------------------------------------------------------- model size
    Entry("params", "N", "N", "parameter",
          "total parameter count (all experts of a mixture-of-experts model)",
          integer=True, default=70e9, range=(1e8, 2e12)),
    Entry("active_params", r"N_{\mathrm{a}}", "N_a", "parameter",
          "parameters used per token (all of them in a dense model, routed-in experts in MoE)",
          integer=True, default=70e9, range=(1e8, 2e12)),
    # ------------------------------------------------------------------- architecture
    Entry("layers", "L", "L", "", "number of transformer layers",
          integer=True, default=80, range=(1, 200)),
    Entry("n_heads", r"n_{\mathrm{h}}", "n_h", "", "number of query (attention) heads",
          integer=True, default=64, range=(1, 256)),
    Entry("n_kv_heads", r"n_{\mathrm{kv}}", "n_kv", "",
          "number of key/value heads (= query heads for MHA, fewer for GQA, 1 for MQA)",
          integer=True, default=8, range=(1, 256)),
    Entry("head_dim", r"d_{\mathrm{h}}", "d_h", "element",
          "width of one attention head (not always hidden / heads)",
          integer=True, default=128, range=(16, 512)),
    # ------------------------------------------------------------------- token counts
    Entry("tokens", r"n_{\mathrm{tok}}", "n_tok", "token",
          "tokens processed by one forward pass", integer=True, default=1, range=(1, 1e6)),
    Entry("query_tokens", r"n_{\mathrm{q}}", "n_q", "token",
          "query tokens attending in one pass (the prompt in prefill, 1 in decode)",
          integer=True, default=1, range=(1, 1e6)),
    Entry("seq_len", "S", "S", "token",
          "context length: tokens held in the KV cache per sequence",
          integer=True, default=10000, range=(1, 2e6)),
    Entry("prompt_len", r"S_{\mathrm{p}}", "S_p", "token", "prompt length (tokens prefilled)",
          integer=True, default=10000, range=(1, 2e6)),
    Entry("new_tokens", r"S_{\mathrm{new}}", "S_new", "token",
          "tokens generated after the prompt", domain="nonnegative",
          integer=True, default=1000, range=(0, 1e5)),
    Entry("batch", "B", "B", "sequence", "sequences processed together (batch size)",
          integer=True, default=1, range=(1, 1024)),
    Entry("hidden", "d", "d", "element", "model (hidden) width, d_model",
          integer=True, default=8192, range=(256, 65536)),
    # ------------------------------------------------------------------- precisions
    Entry("bytes_per_param", r"b_{\mathrm{w}}", "b_w", "byte/parameter",
          "bytes per stored weight (weight precision)",
          default=2, range=(0.25, 4), choices=PRECISIONS),
    Entry("kv_bytes", r"b_{\mathrm{kv}}", "b_kv", "byte/element",
          "bytes per KV-cache element (KV precision, independent of the weights')",
          default=2, range=(0.25, 4), choices=PRECISIONS),
    # ------------------------------------------------------------------- rates and hardware
    Entry("throughput", "R", "R", "token/second",
          "decode throughput: tokens generated per second, all sequences of the batch together",
          default=10, range=(0.1, 1e5)),
    Entry("peak_flops", r"F_{\mathrm{peak}}", "F_peak", "FLOP/second",
          "peak dense FLOP rate of the accelerator at the compute precision",
          default=312e12, range=(1e12, 1e16)),
    Entry("utilization", r"\eta_{\mathrm{F}}", "η_F", "",
          "achieved fraction of the peak FLOP rate (model FLOP utilization, MFU)",
          domain="fraction", default=0.4, range=(0.01, 1)),
    Entry("mem_bandwidth", r"\mathit{BW}", "BW", "byte/second",
          "peak memory (HBM) bandwidth of the accelerator", default=2.039e12,
          range=(1e11, 2e13)),
    Entry("gpu_memory", r"M_{\mathrm{GPU}}", "M_GPU", "byte",
          "memory capacity of one accelerator (an \"80 GB\" A100 holds 80 GiB)",
          default=80 * 2**30, range=(8e9, 3e11)),
    Entry("n_gpus", r"n_{\mathrm{GPU}}", "n_GPU", "",
          "number of accelerators the model and its cache are spread over",
          integer=True, default=1, range=(1, 1024)),
    Entry("bw_utilization", r"\eta_{\mathrm{BW}}", "η_BW", "",
          "achieved fraction of the peak memory bandwidth (memory bandwidth utilization, MBU)",
          domain="fraction", default=0.6, range=(0.01, 1)),
    # ------------------------------------------------------------------- seed assumptions
    Entry("workspace_fraction", r"f_{\mathrm{ws}}", "f_ws", "",
          "inference workspace (activations, buffers) as a fraction of the weight bytes",
          domain="unit_interval", default=0.12, range=(0, 0.5)),
    Entry("cache_hit", "h", "h", "",
          "fraction of weight reads served from on-chip cache instead of HBM",
          domain="unit_interval", default=0.8, range=(0, 1)),
    Entry("overhead", r"t_{0}", "t_0", "second",
          "fixed time-to-first-token overhead (scheduling, tokenization, launch)",
          domain="nonnegative", default=0.08, range=(0, 2)),
    # ------------------------------------------------- the seed's limitations, made visible
    # seed, Known Limitations: "No FlashAttention: assumes standard O(seq^2) attention" and
    # causal masking / batching "not modeled".  Each becomes a symbol whose default is the
    # seed's assumption, so the seed's numbers are one instance.
    Entry("causal_factor", "c", "c", "",
          "fraction of the S x S attention scores computed in prefill (1: the seed's full "
          "count; 1/2: causal masking skips the upper triangle)",
          domain="fraction", default=1, range=(0.5, 1)),
    Entry("flash_attention", r"\phi_{\mathrm{FA}}", "φ_FA", "",
          "1 when attention is fused (FlashAttention: the S x S scores never reach HBM), 0 for "
          "standard attention that writes and reads them",
          domain="unit_interval", integer=True, default=0, range=(0, 1)),
    Entry("prompt_logprobs", r"\phi_{\mathrm{lp}}", "φ_lp", "",
          "1 when the output head computes logits at every prompt position (prompt "
          "log-probs, or the seed's 2 N S_p count), 0 when only at each prompt's last position "
          "(what serving engines do by default)",
          domain="unit_interval", integer=True, default=1, range=(0, 1)),
    Entry("act_bytes", r"b_{\mathrm{act}}", "b_act", "byte/element",
          "bytes per activation element (attention scores, hidden states)",
          default=2, range=(0.5, 4), choices=PRECISIONS),
)
# fmt: on

for _entry in INPUTS:
    glossary.add(_entry)
