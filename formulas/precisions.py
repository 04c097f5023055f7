"""Named numeric precisions: bytes per stored element.

The seed's table (Memory Hierarchy / Model Weights): BF16/FP16 2 bytes, FP8/INT8 1 byte,
INT4 0.5 bytes.  Added: FP32 (4 bytes), and the block-scaled formats real checkpoints ship,
whose scales cost bytes too (:data:`FORMATS`; the bytes per parameter come from the registry
formula ``quantized_bytes_per_param``, evaluated when a name is first looked up):

* ``mxfp4``: 4-bit E2M1 values, one 8-bit E8M0 scale per block of 32 (gpt-oss experts);
* ``fp8_block128``: FP8 E4M3 values, one float32 scale per 128 x 128 block (DeepSeek-V3);
* ``int4_g128``: 4-bit integers, an FP16 scale and a 4-bit zero point per group of 128
  (AWQ and GPTQ checkpoints);
* ``int4_g32``: 4-bit integers, a BF16 scale and a BF16 zero point per group of 32 (gpt-fast's
  int4 weight-only quantization).

Names are matched case-insensitively; formulas accept them wherever a bytes-per-element
symbol is expected (``weight_bytes(params=70e9, bytes_per_param="int4")``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["FORMATS", "PRECISIONS", "WEIGHT_CLASSES", "ScaledFormat"]

#: the classes of weights a checkpoint may store at their own precision: the key of a
#: Scenario's ``weights={...}`` dict -> the glossary symbol of its bytes per parameter
WEIGHT_CLASSES: Mapping[str, str] = MappingProxyType(
    {"body": "bytes_per_param", "experts": "expert_bytes", "embeddings": "embedding_bytes"}
)

#: bytes per element of the plain formats (no shared scales)
_PLAIN = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5}


@dataclass(frozen=True)
class ScaledFormat:
    """A block-scaled format: ``element_bytes`` per value, plus ``scale_bytes`` (scale and any
    zero point) shared by each group of ``group_size`` values; ``source`` says where from."""

    element_bytes: float
    scale_bytes: float
    group_size: int
    source: str


#: the block-scaled formats, by name
FORMATS: Mapping[str, ScaledFormat] = MappingProxyType(
    {
        "mxfp4": ScaledFormat(
            0.5, 1, 32,
            "OCP Microscaling Formats (MX) v1.0 (block of 32 E2M1 values, one 8-bit E8M0 scale; "
            "microsoft/microxcaling at 7bc4195); openai/gpt-oss README (MoE weights as blocks "
            "and scales: 32 FP4 values in 16 bytes, one uint8 scale per block)",
        ),
        "fp8_block128": ScaledFormat(
            1, 4, 128 * 128,
            "deepseek-ai/DeepSeek-V3 README_WEIGHTS.md at 9b4e978 (quant_method fp8, fmt e4m3, "
            "weight_block_size [128, 128]; weight_scale_inv: one float32 per 128 x 128 block)",
        ),
        "int4_g32": ScaledFormat(
            0.5, 4, 32,
            "pytorch-labs/gpt-fast quantize.py at 32971d3 (WeightOnlyInt4Linear: int4 weights, "
            "and per group of 32 input channels a bfloat16 scale and a bfloat16 zero point, "
            "scales_and_zeros [in / groupsize, out, 2])",
        ),
        "int4_g128": ScaledFormat(
            0.5, 2.5, 128,
            "casper-hansen/AutoAWQ awq/modules/linear/gemm.py at 88e4c76 (int4 qweight; per group "
            "of 128 input channels an fp16 scale and a packed 4-bit zero point); AutoGPTQ "
            "qlinear_cuda_old.py at 9f7d370 stores the same per group (g_idx not counted)",
        ),
    }
)  # fmt: skip


#: widest first; a scaled format before the plain one it scales
_ORDER = ("fp32", "bf16", "fp16", "fp8_block128", "fp8", "int8", "mxfp4", "int4_g32", "int4_g128",
          "int4")
assert set(_ORDER) == {*_PLAIN, *FORMATS}


class _Precisions(Mapping[str, float]):
    """The plain precisions and the scaled formats, read-only; a scaled format's bytes come
    from the registry formula ``quantized_bytes_per_param`` on first use."""

    def __init__(self) -> None:
        self._scaled: dict[str, float] = {}

    def __getitem__(self, name: str) -> float:
        if name in _PLAIN:
            return _PLAIN[name]
        if name not in self._scaled:
            fmt = FORMATS[name]  # KeyError for an unknown name, as a mapping should
            from llmphys.engine import registry

            f = registry["quantized_bytes_per_param"]
            fn, names = f.numeric()
            given = {
                "element_bytes": fmt.element_bytes,
                "scale_bytes": fmt.scale_bytes,
                "group_size": fmt.group_size,
            }
            self._scaled[name] = float(fn(*(given[n] for n in names)))
        return self._scaled[name]

    def __iter__(self) -> Iterator[str]:
        return iter(_ORDER)

    def __len__(self) -> int:
        return len(_PLAIN) + len(FORMATS)

    def __repr__(self) -> str:
        return f"PRECISIONS({dict(self)!r})"


#: bytes per element, by precision name
PRECISIONS: Mapping[str, float] = _Precisions()
