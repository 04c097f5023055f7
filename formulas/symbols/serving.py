"""Serving symbols: what running a deployment costs (price, power, facility overhead) and the
knobs of speculative decoding.

llmphys ships no prices as facts: the defaults here are examples for the widgets, labelled as
such, and every question takes the user's own figure.
"""

from __future__ import annotations

from llmphys.engine.glossary import Entry, glossary
from llmphys.symbols import seed  # noqa: F401  (the seed's symbols come first in reading order)

__all__ = ["SERVING"]

# fmt: off
SERVING: tuple[Entry, ...] = (
    Entry("price_per_gpu_hour", r"p_{\mathrm{GPU}}", "p_GPU", "USD/hour",
          "what one GPU costs per hour of service (rented, or owned and amortized); the "
          "default, 2 USD per GPU-hour, is an example, not a price",
          default=2, range=(0.1, 20)),
    Entry("gpu_token_rate", r"r_{\mathrm{GPU}}", "r_GPU", "token/second",
          "tokens one GPU processes per second: decoded (output tokens) or prefilled (input "
          "tokens)",
          default=3000, range=(1, 1e6)),
    Entry("board_power", r"P_{\mathrm{GPU}}", "P_GPU", "watt",
          "electrical power one accelerator draws while serving (at most its board power, "
          "TDP); the default, 700 W, is an H100 SXM's TDP as an example",
          default=700, range=(50, 2000)),
    Entry("power_floor", r"f_{P}", "f_P", "",
          "fraction of its TDP a board draws on a memory-bound step, its compute units idle "
          "(streaming weights and cache); the draw rises to the TDP as the step turns "
          "compute-bound.  No datasheet gives it: 1 (the TDP, an upper bound) unless "
          "measured (nvidia-smi --query-gpu=power.draw)",
          domain="unit_interval", default=1, range=(0.1, 1)),
    Entry("pue", r"\mathrm{PUE}", "PUE", "",
          "power usage effectiveness: the facility's power (cooling, conversion) per watt the "
          "IT equipment draws, at least 1; the default, 1.2, is an example",
          default=1.2, range=(1, 3)),
    Entry("prefix_hit", r"h", "h", "",
          "fraction of a prompt's tokens whose keys and values are already cached from an "
          "earlier request with the same prefix (prefix caching)",
          domain="unit_interval", default=0, range=(0, 0.99)),
    Entry("arrival_rate", r"\lambda", "lambda", "request/second",
          "requests arriving per second at a deployment",
          default=10, range=(0.01, 1e5)),
    Entry("acceptance_rate", r"\alpha", "alpha", "",
          "chance that the target model accepts a drafted token in speculative decoding",
          domain="unit_interval", default=0.8, range=(0, 0.99)),
    Entry("draft_tokens", r"\gamma", "gamma", "token",
          "tokens the draft model proposes per target step in speculative decoding",
          integer=True, default=4, range=(1, 16)),
    Entry("chunk_tokens", r"C_{\mathrm{chunk}}", "C_chunk", "token",
          "prompt tokens a chunked prefill adds to one step beside the decoding sequences "
          "(the scheduler's token budget per step less the decode tokens); the default, 2048, "
          "is an example",
          integer=True, default=2048, range=(16, 65536)),
    Entry("draft_cost_ratio", "c", "c", "",
          "time of one draft-model step over one target-model step (MTP heads: a few percent)",
          domain="nonnegative", default=0.05, range=(0, 1)),
)
# fmt: on

for _entry in SERVING:
    glossary.add(_entry)
