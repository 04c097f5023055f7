"""The seed's symbols: every input the seed's formulas use.

Each entry of the table (``seed.toml``, read by :mod:`llmphys.symbols.table`): python name (the
keyword argument), conventional display symbol (LaTeX and plain text), unit (plain numbers given
for the symbol are read in it), meaning, domain, whether it is a whole number, a default and a
typical slider range.

Defaults are the seed's running example: Llama 3.1 70B (80 layers, hidden 8192, 8 KV heads of
128 as the real model has), a 10K-token context, batch 1, BF16, served on an A100 80GB
(312 TFLOPS dense BF16, 2,039 GB/s) at the seed's 0.4 / 0.6 utilizations.  The seed's own
multi-head KV figures are the instance ``n_kv_heads=64`` (64 x 128 = hidden).

Order matters: formulas print their factors in this order (``2 L n_kv d_h S B b_kv``).
Tokens, parameters, sequences and elements are named dimensionless counts (see the top of
``units/definitions.txt`` for why).
"""

from __future__ import annotations

from llmphys.symbols.table import declare

__all__ = ["INPUTS"]

#: The seed's symbols, in reading order: the table seed.toml beside this module.
INPUTS = declare("seed.toml")
