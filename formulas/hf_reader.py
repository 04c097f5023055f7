"""Reading a Hugging Face ``config.json`` field by field: :class:`_Reader` (sizes, flags and
texts checked, defaults recorded as assumptions, a bad value refused naming the field) and the
pieces every family shares (core sizes, heads, tied embeddings, windows, layer patterns)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from llmphys.errors import ConfigError
from llmphys.precisions import WEIGHT_CLASSES
from llmphys.presets.model import DECLARED

_TRANSFORMERS = "HF transformers {cls}"


@dataclass
class _Reader:
    """Reads one family's keys, checking values and recording the defaults it applies."""

    config: Mapping[str, Any]
    family: str
    assumptions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: the family's own names of the usual fields (``{"num_hidden_layers": "num_layers"}``;
    #: several spellings in a tuple, the first the config has wins)
    fields: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    #: the fields read since the last value was stored (see :class:`_Values`)
    read: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.family} config"

    def name_of(self, key: str) -> str:
        """The family's name of the usual field ``key``."""
        name = self.fields.get(key, key)
        if isinstance(name, str):
            return name
        return next((n for n in name if n in self.config), name[0])

    def has(self, key: str) -> bool:
        return self.config.get(self.name_of(key)) is not None

    def _check_int(self, key: str, value: Any, minimum: int) -> int:
        self.read.append(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            kind = "a positive whole number" if minimum == 1 else "a whole number >= 0"
            shown = repr(value)
            if len(shown) > 80:
                shown = shown[:77] + "..."
            raise ConfigError(f"{self.where}: field {key!r} must be {kind}; got {shown}")
        limit = MAX_LAYERS if key in _LAYER_COUNTS else MAX_SIZE
        if value > limit:
            digits = len(str(value))
            shown = f"{value:,}" if digits <= 16 else f"a {digits}-digit number"
            raise ConfigError(
                f"{self.where}: field {key!r} = {shown} is not a plausible size (at most "
                f"{limit:,}): check the config"
            )
        return value

    def size(self, key: str, what: str, minimum: int = 1) -> int:
        """A required whole number."""
        key = self.name_of(key)
        if key not in self.config:
            raise ConfigError(
                f"{self.where}: missing field {key!r} ({what}); it has no default, "
                "so llmphys does not guess it"
            )
        return self._check_int(key, self.config[key], minimum)

    def size_or(self, key: str, default: int, how: str, minimum: int = 1) -> int:
        """A whole number, or ``default`` (reported as ``how``) when the config does not give
        it."""
        key = self.name_of(key)
        if self.config.get(key) is None:
            self.assumptions.append(f"{key} not given: {how}")
            self.read.append(f"{key} (default)")
            return default
        return self._check_int(key, self.config[key], minimum)

    def nullable_int(self, key: str, what: str) -> int | None:
        """A whole number or ``null``; the key itself must be present."""
        key = self.name_of(key)
        if key not in self.config:
            raise ConfigError(
                f"{self.where}: missing field {key!r} ({what}; null is allowed); it has no "
                "default, so llmphys does not guess it"
            )
        value = self.config[key]
        return None if value is None else self._check_int(key, value, 1)

    def flag(self, key: str, default: bool, why: str) -> bool:
        """A boolean, or ``default`` (reported) when the config does not give it."""
        key = self.name_of(key)
        if self.config.get(key) is None:
            self.assumptions.append(f"{key} not given: {default} ({why})")
            return default
        value = self.config[key]
        if not isinstance(value, bool):
            raise ConfigError(f"{self.where}: field {key!r} must be true or false; got {value!r}")
        return value

    def text(self, key: str, default: str, why: str) -> str:
        key = self.name_of(key)
        if self.config.get(key) is None:
            self.assumptions.append(f"{key} not given: {default!r} ({why})")
            return default
        return str(self.config[key])

    def refuse(self, key: str, value: Any, why: str) -> None:
        """A setting llmphys cannot represent: refused rather than counted wrong (and a value
        of another kind refused too: ``"yes"`` is not read as false)."""
        key = self.name_of(key)
        given = self.config.get(key)
        if given is not None and type(given) is not type(value):
            kind = "true or false" if isinstance(value, bool) else type(value).__name__
            raise ConfigError(f"{self.where}: field {key!r} must be {kind}; got {repr(given)[:80]}")
        if given == value:
            raise ConfigError(f"{self.where}: {key} = {json.dumps(value)} is not supported ({why})")


#: the largest size any field may hold: exact in float64, far beyond any model (2**40 = 1.1e12)
MAX_SIZE = 2**40
#: the most layers a config may have: the deepest published transformers have a few hundred;
#: some families read one entry per layer, so a count must stay small enough to loop over
MAX_LAYERS = 10_000
_LAYER_COUNTS = {"num_hidden_layers", "num_layers", "n_layer", "first_k_dense_replace"}


# ----------------------------------------------------------------------------- shared pieces
class _Values(dict[str, int]):
    """Glossary values read from a config, each with the fields it came from (``sources``:
    the fields the reader read since the previous value was stored)."""

    def __init__(self, reader: _Reader) -> None:
        super().__init__()
        self.reader = reader
        self.sources: dict[str, tuple[str, ...]] = {}

    def __setitem__(self, key: str, value: int) -> None:
        read = tuple(dict.fromkeys(self.reader.read))
        self.sources[key] = read or (DECLARED,)
        self.reader.read.clear()
        super().__setitem__(key, value)

    def update(self, *args: Any, **values: int) -> None:  # type: ignore[override]
        for key, value in dict(*args, **values).items():
            self[key] = value

    def pop(self, key: str, *default: Any) -> Any:  # type: ignore[override]
        self.sources.pop(key, None)
        return super().pop(key, *default)


def _core(r: _Reader, heads: bool = True) -> _Values:
    """Sizes every family has: width, layers, query heads (unless attention-free),
    vocabulary."""
    v = _Values(r)
    v["hidden"] = r.size("hidden_size", "model width")
    v["layers"] = r.size("num_hidden_layers", "number of transformer layers")
    if heads:
        v["n_heads"] = r.size("num_attention_heads", "number of query heads")
    v["vocab_size"] = r.size("vocab_size", "vocabulary size")
    return v


def _heads(
    r: _Reader, v: dict[str, int], by: str, *, derive_kv: bool, derive_head_dim: bool
) -> None:
    """KV heads and head width.  ``derive_*``: the family's config class (named in ``by``)
    derives a missing one (KV heads = query heads, head_dim = hidden / heads); otherwise it is
    required."""
    n_h = v["n_heads"]
    derives = f"as {by} derives it"
    if derive_kv:
        v["n_kv_heads"] = r.size_or(
            "num_key_value_heads",
            n_h,
            f"{n_h:,} = num_attention_heads, multi-head attention ({derives})",
        )
    else:
        v["n_kv_heads"] = r.size("num_key_value_heads", "number of key/value heads")
    if not derive_head_dim or r.has("head_dim"):
        v["head_dim"] = r.size("head_dim", "width of one attention head")
    elif v["hidden"] % n_h:
        raise ConfigError(
            f"{r.where}: missing field 'head_dim' and hidden_size {v['hidden']} is not a "
            f"multiple of num_attention_heads {n_h}; give head_dim"
        )
    else:
        d = v["hidden"] // n_h
        v["head_dim"] = r.size_or(
            "head_dim",
            d,
            f"{d:,} = hidden_size / num_attention_heads = {v['hidden']:,} / {n_h:,} ({derives})",
        )
    if n_h % v["n_kv_heads"]:
        raise ConfigError(
            f"{r.where}: num_attention_heads {n_h} is not a multiple of num_key_value_heads "
            f"{v['n_kv_heads']} (each KV head serves a whole group of query heads)"
        )


def _tie(r: _Reader, v: dict[str, int], default: bool, by: str) -> None:
    tied = r.flag("tie_word_embeddings", default, f"default of {by}")
    given = r.config.get("tie_word_embeddings") is not None
    r.read.append("tie_word_embeddings" if given else "tie_word_embeddings (default)")
    v["embedding_matrices"] = 1 if tied else 2


def _window(
    r: _Reader, v: dict[str, int], features: list[str], local: int, key: str = "sliding_window"
) -> None:
    """Record ``local`` sliding-window layers (if any) of the window the field ``key`` gives."""
    if local == 0:
        r.read.clear()
        return
    layout = list(r.read) or ["layer_types"]  # the fields the local layers were counted from
    r.read.clear()
    v["sliding_window"] = r.size(key, "attention window of the local layers")
    r.read.extend(layout)
    v["local_layers"] = local
    r.read.extend(layout)
    v["global_layers"] = v["layers"] - local
    features.append("sliding_window")


def _layer_types(
    r: _Reader, layers: int, local_types: tuple[str, ...] = ("sliding_attention",)
) -> int | None:
    """Local layers (of a type in ``local_types``) counted from an explicit ``layer_types``
    list, or ``None`` without one."""
    types = r.config.get("layer_types")
    if types is None:
        return None
    r.read.append("layer_types")
    if not isinstance(types, list) or len(types) != layers:
        raise ConfigError(
            f"{r.where}: field 'layer_types' must list one type per layer ({layers}); got "
            f"{str(types)[:80]}"
        )
    known = (*local_types, "full_attention")
    unknown = sorted({str(t) for t in types if t not in known})
    if unknown:
        raise ConfigError(
            f"{r.where}: field 'layer_types' has unknown type {unknown[0]!r}; expected "
            + " or ".join(repr(k) for k in known)
        )
    return sum(t in local_types for t in types)


def _pattern(r: _Reader, layers: int, every: int, by: str) -> int:
    """Local layers when every ``every``-th layer is global (the rest slide)."""
    local = sum(bool((i + 1) % every) for i in range(layers))
    r.assumptions.append(
        f"layer_types not given: every {every}{'nd' if every == 2 else 'th'} layer global, "
        f"the others sliding ({local:,} of {layers:,}; {by})"
    )
    return local


def _context(r: _Reader) -> tuple[int | None, str, int | None]:
    """The longest sequence the model takes (``max_position_embeddings``, read from the
    ``text_config`` of a multimodal checkpoint too), how it was reached (rope scaling) and the
    length before rope scaling extended it (``original_max_position_embeddings``)."""
    config = r.config
    key = r.name_of("max_position_embeddings")
    text = config.get("text_config")
    if config.get(key) is None and isinstance(text, Mapping):
        config = text
    value = config.get(key)
    if value is None:
        r.assumptions.append(
            f"{key} not given: no context limit of the model's own is "
            "applied (memory alone limits the context)"
        )
        return None, "", None
    limit = r._check_int(key, value, 1)
    how = f"{key} {limit:,}"
    original_length = None
    rope = config.get("rope_scaling")
    if isinstance(rope, Mapping):
        kind = rope.get("rope_type") or rope.get("type")
        factor = rope.get("factor")
        original = rope.get("original_max_position_embeddings")
        if (
            isinstance(kind, str)
            and isinstance(factor, int | float)
            and not isinstance(factor, bool)
        ):
            how += f"; rope_scaling {kind} x{factor:g}"
            if isinstance(original, int) and not isinstance(original, bool) and original > 0:
                how += f" from an original {original:,}"
                original_length = original
    return limit, how, original_length


def _kept_apart(module: str) -> bool:
    """True for a module the weight classes already keep unquantized: the embeddings and the
    head (``embedding_bytes``), or a router (``mlp.gate``, ``mlp.router``: counted with the body,
    under 0.1 % of the weights).  ``mlp.gate_proj`` is a dense projection, not a router."""
    last = module.rstrip(".*").rsplit(".", 1)[-1]
    return last in ("lm_head", "embed_tokens", "wte", "router", "gate")


#: torch dtypes as precision names
_DTYPES = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}


def _released(r: _Reader) -> tuple[dict[str, str], str]:
    """The precisions the checkpoint stores its weights in (``bytes_per_param`` for the body,
    ``expert_bytes`` for the routed experts, ``embedding_bytes`` for the embeddings and the
    head), read from ``quantization_config`` and ``torch_dtype``, and how they were read."""
    dtype = r.config.get("torch_dtype") or r.config.get("dtype")
    text = r.config.get("text_config")
    if dtype is None and isinstance(text, Mapping):
        dtype = text.get("torch_dtype") or text.get("dtype")
    if dtype is not None:
        r.notes.append(f"checkpoint dtype: {dtype}")
    plain = _DTYPES.get(dtype) if isinstance(dtype, str) else None
    stored = "torch_dtype"
    if plain is None:
        plain, stored = "bf16", "assumed: torch_dtype not read"
        r.assumptions.append(
            f"torch_dtype {'not given' if dtype is None else repr(dtype)[:40]}: weights taken "
            "as stored in bf16"
        )
    quant = r.config.get("quantization_config")
    if quant is None:
        return dict.fromkeys(WEIGHT_CLASSES.values(), plain), f"{plain} ({stored})"
    if not isinstance(quant, Mapping):
        raise ConfigError(
            f"{r.where}: field 'quantization_config' must be an object (quant_method, ...); got "
            f"{json.dumps(quant)[:80]}"
        )
    method = quant.get("quant_method")
    keep = quant.get("modules_to_not_convert") or []
    if not isinstance(keep, list) or not all(isinstance(k, str) for k in keep):
        raise ConfigError(
            f"{r.where}: quantization_config.modules_to_not_convert must be a list of module "
            f"names; got {json.dumps(keep)[:80]}"
        )
    if method == "mxfp4":  # gpt-oss: the MoE projections only, everything else as stored
        how = f"experts mxfp4, the rest {plain} (quantization_config mxfp4"
        how += f"; not converted: {', '.join(keep)})" if keep else ")"
        return {"bytes_per_param": plain, "expert_bytes": "mxfp4", "embedding_bytes": plain}, how
    odd = [k for k in keep if not _kept_apart(k)]
    if odd:
        r.assumptions.append(
            f"quantization_config modules_to_not_convert {', '.join(odd)[:80]}: counted at the "
            "quantized precision (llmphys gives attention and dense MLPs one precision)"
        )
    if method == "fp8":
        block = quant.get("weight_block_size")
        name = "fp8_block128" if block == [128, 128] else "fp8"
        if block not in (None, [128, 128]):
            r.assumptions.append(
                f"quantization_config weight_block_size {json.dumps(block)[:40]}: its scales "
                "are not counted (fp8 at 1 byte per weight)"
            )
        how = f"fp8 ({json.dumps(block) if block else 'per-tensor scales'}), embeddings {plain}"
        return {"bytes_per_param": name, "expert_bytes": name, "embedding_bytes": plain}, how
    if method in ("awq", "gptq"):
        bits, group = quant.get("bits"), quant.get("group_size")
        if bits == 4 and group == 128:
            name = "int4_g128"
        elif bits in (4, 8):
            name = "int4" if bits == 4 else "int8"
            r.assumptions.append(
                f"quantization_config {method} group_size {json.dumps(group)[:20]}: its scales "
                f"are not counted ({name})"
            )
        else:
            raise ConfigError(
                f"{r.where}: quantization_config {method} with bits = {json.dumps(bits)[:20]} "
                "is not supported (4 or 8)"
            )
        how = f"{method} {bits}-bit g{group}, embeddings and head {plain}"
        return {"bytes_per_param": name, "expert_bytes": name, "embedding_bytes": plain}, how
    r.assumptions.append(
        f"quantization_config quant_method {json.dumps(method)[:40]} is not read: weights "
        f"taken as stored in {plain}"
    )
    return dict.fromkeys(
        WEIGHT_CLASSES.values(), plain
    ), f"{plain} (torch_dtype; quantization not read)"
