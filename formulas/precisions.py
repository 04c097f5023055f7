"""Named numeric precisions: bytes per stored element.

The seed's table (Memory Hierarchy / Model Weights): BF16/FP16 2 bytes, FP8/INT8 1 byte,
INT4 0.5 bytes.  Added: FP32 (4 bytes), and MXFP4 as gpt-oss stores its experts: 4-bit values
plus one shared 8-bit scale per block of 32, i.e. 4 + 8/32 = 4.25 bits (OCP Microscaling
Formats spec v1.0; gpt-oss model card: "4.25 bits per parameter").

Names are matched case-insensitively; formulas accept them wherever a bytes-per-element
symbol is expected (``weight_bytes(params=70e9, bytes_per_param="int4")``).
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["PRECISIONS"]

#: bytes per element, by precision name
PRECISIONS = MappingProxyType(
    {
        "fp32": 4.0,
        "bf16": 2.0,
        "fp16": 2.0,
        "fp8": 1.0,
        "int8": 1.0,
        "mxfp4": 4.25 / 8,
        "int4": 0.5,
    }
)
