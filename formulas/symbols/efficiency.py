"""Symbols of the efficiency model: how far a real engine's forward pass sits from the
roofline, in a few physical terms (a fixed cost per pass and per layer, and a FLOP
utilization that saturates with the tokens of the pass).

A scenario takes their values from its assumption set: ``ideal`` and ``seed`` leave them out
(the roofline), ``typical`` gives the values fitted to published measurements
(:mod:`llmphys.calibration`).  The glossary's defaults are examples for widgets.
"""

from __future__ import annotations

from llmphys.engine.glossary import Entry, glossary
from llmphys.symbols import seed  # noqa: F401  (the seed's symbols come first in reading order)

__all__ = ["EFFICIENCY"]

# fmt: off
EFFICIENCY: tuple[Entry, ...] = (
    Entry("step_overhead", r"t_{\mathrm{pass}}", "t_pass", "second",
          "fixed time of every forward pass (a prefill or a decode step) beside its roofline "
          "time: scheduling, sampling, host synchronisation, the first kernel's launch",
          domain="nonnegative", default=0, range=(0, 0.05)),
    Entry("layer_overhead", r"t_{\mathrm{layer}}", "t_layer", "second",
          "fixed time per layer of every forward pass: the launch and tail of the layer's "
          "kernels, where no byte moves at full bandwidth (scenarios take their assumption set's; "
          "50 us is the widgets' example)",
          domain="nonnegative", default=5e-5, range=(0, 0.001)),
    Entry("mfu_half_tokens", r"n_{1/2}", "n_1/2", "token",
          "tokens per forward pass at which the matmuls reach half their large-pass FLOP "
          "utilization (the utilization saturates as n / (n + n_1/2)); 0: always at full "
          "utilization (scenarios take their assumption set's; 128 is the widgets' example)",
          domain="nonnegative", default=128, range=(0, 65536)),
    Entry("step_tokens", r"n_{\mathrm{pass}}", "n_pass", "token",
          "tokens one forward pass processes: B S_p in a prefill, B in a decode step",
          default=1, range=(1, 1e6)),
)
# fmt: on

for _entry in EFFICIENCY:
    glossary.add(_entry)
