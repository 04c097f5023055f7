"""formula.sweep(): a labelled grid with units, axes in keyword order, scalars not axes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import xarray

import llmphys as F
from llmphys.errors import InputError, UnitError, UnknownNameError
from llmphys.units import Q_

KV_FIXED = dict(layers=80, n_kv_heads=8, head_dim=128)


def test_three_dimensional_sweep_shape_axes_and_units():
    grid = F.kv_cache_bytes.sweep(
        batch=[1, 8, 64],
        seq_len=np.array([1_000, 10_000, 100_000, 1_000_000]),
        kv_bytes=["bf16", "fp8", "int4"],
        **KV_FIXED,
    )
    assert isinstance(grid, xarray.DataArray)
    assert grid.name == "kv_cache_bytes"
    assert grid.dims == ("batch", "seq_len", "kv_bytes")
    assert grid.shape == (3, 4, 3)
    assert grid.dtype == np.float64
    assert grid.attrs["units"] == "B"
    assert grid.attrs["symbol"] == "M_KV"
    assert grid["batch"].values.tolist() == [1, 8, 64]
    assert grid["seq_len"].values.tolist() == [1_000, 10_000, 100_000, 1_000_000]
    assert grid["kv_bytes"].values.tolist() == ["bf16", "fp8", "int4"]  # names kept as labels
    assert grid["batch"].attrs == {"units": "seq"}
    assert grid["seq_len"].attrs == {"units": "tok"}
    assert grid["kv_bytes"].attrs == {}
    one = F.kv_cache_bytes.lambdify(units=True)
    for b in (1, 64):
        for s in (1_000, 1_000_000):
            for name in ("bf16", "int4"):
                point = grid.sel(batch=b, seq_len=s, kv_bytes=name)
                expected = one(batch=b, seq_len=s, kv_bytes=name, **KV_FIXED)
                assert float(point) == pytest.approx(expected.to("B").magnitude, rel=1e-15)


def test_axis_order_is_keyword_order():
    a = F.kv_cache_bytes.sweep(seq_len=[1000, 2000], batch=[1, 2, 4], kv_bytes=2, **KV_FIXED)
    b = F.kv_cache_bytes.sweep(batch=[1, 2, 4], kv_bytes=2, seq_len=[1000, 2000], **KV_FIXED)
    assert a.dims == ("seq_len", "batch") and a.shape == (2, 3)
    assert b.dims == ("batch", "seq_len") and b.shape == (3, 2)
    np.testing.assert_array_equal(a.values, b.values.T)


def test_scalars_are_not_axes_but_are_kept_as_coordinates():
    grid = F.kv_cache_bytes.sweep(
        seq_len=[1000, 2000],
        batch=1,
        kv_bytes="fp8",
        layers=Q_(80, ""),
        **{"n_kv_heads": 8},
        head_dim=np.int64(128),
    )
    assert grid.dims == ("seq_len",)
    assert grid["batch"].ndim == 0 and int(grid["batch"]) == 1
    assert grid["batch"].attrs == {"units": "seq"}
    assert str(grid["kv_bytes"].values) == "fp8"
    assert grid["layers"].attrs == {}
    assert set(grid.coords) == {"seq_len", "batch", "kv_bytes", "layers", "n_kv_heads", "head_dim"}


def test_all_scalars_give_a_zero_dimensional_result_equal_to_a_call():
    values = dict(seq_len=10_000, batch=1, kv_bytes="bf16", **KV_FIXED)
    grid = F.kv_cache_bytes.sweep(**values)
    assert grid.dims == () and float(grid) == F.kv_cache_bytes(**values).magnitude


def test_quantity_axes_keep_their_labels_and_unit():
    grid = F.weight_bytes.sweep(params=Q_([7, 70, 405], "Gparam"), bytes_per_param="bf16")
    assert grid["params"].values.tolist() == [7, 70, 405]
    assert grid["params"].attrs == {"units": "Gparam"}
    assert grid.values.tolist() == [14e9, 140e9, 810e9]
    listed = F.weight_bytes.sweep(params=[Q_(7, "Gparam"), Q_(0.07, "Tparam")], bytes_per_param=2)
    assert listed["params"].attrs == {"units": "Gparam"}
    assert listed.values.tolist() == pytest.approx([14e9, 140e9], rel=1e-15)


def test_precision_names_and_numbers_may_mix():
    grid = F.weight_bytes.sweep(params=70e9, bytes_per_param=["bf16", 1, "int4"])
    assert grid["bytes_per_param"].values.tolist() == ["bf16", "1", "int4"]
    assert grid.values.tolist() == [140e9, 70e9, 35e9]


def test_a_part_may_be_swept_instead_of_its_inputs():
    grid = F.total_vram.sweep(
        weight_bytes=Q_([70, 140], "GB"),
        kv_cache_bytes=Q_(10, "GiB"),
        workspace_bytes=Q_(np.array([1.0, 2.0, 4.0]), "GB"),
    )
    assert grid.dims == ("weight_bytes", "workspace_bytes") and grid.shape == (2, 3)
    assert float(grid[1, 2]) == pytest.approx(140e9 + 10 * 2**30 + 4e9, rel=1e-15)


def test_extreme_integers_in_a_sweep_stay_float64():
    grid = F.prefill_flops.sweep(
        prompt_len=np.array([10**6, 10**7], dtype=np.int64),
        active_params=np.array([10**12], dtype=np.int64),
        layers=200,
        hidden=65536,
        causal_factor=1,
    )
    exact = 2 * 10**12 * 10**7 + 4 * 65536 * 200 * 10**14
    assert grid.dtype == np.float64
    assert float(grid.sel(prompt_len=10**7, active_params=10**12)) == pytest.approx(
        exact, rel=1e-12
    )


def test_table_and_long_format():
    grid = F.kv_cache_bytes.sweep(batch=[1, 8], seq_len=[1000, 2000, 4000], kv_bytes=2, **KV_FIXED)
    table = grid.to_dataframe()
    assert list(table.index.names) == ["batch", "seq_len"]
    assert len(table) == 6
    assert table.loc[(8, 4000), "kv_cache_bytes"] == 2 * 80 * 8 * 128 * 4000 * 8 * 2
    wide = grid.to_pandas()
    assert wide.shape == (2, 3)


def test_caller_values_are_not_modified_and_result_is_writable():
    seq = np.array([1000.0, 2000.0])
    grid = F.kv_cache_bytes.sweep(seq_len=seq, batch=1, kv_bytes=2, **KV_FIXED)
    grid.values[0] = -1
    assert seq.tolist() == [1000.0, 2000.0]


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        (
            {"seq_len": np.ones((2, 2))},
            InputError,
            "formula 'kv_cache_bytes': sweep over 'seq_len' needs a scalar or a 1-D list of "
            "values (each swept input is one axis); got shape (2, 2)",
        ),
        (
            {"batch": []},
            InputError,
            "formula 'kv_cache_bytes': sweep over 'batch' got no values; give at least one",
        ),
        (
            {"kv_bytes": ["bf16", "bf61"]},
            InputError,
            "formula 'kv_cache_bytes': argument 'kv_bytes' got unknown name 'bf61'; did you "
            "mean 'bf16'? (known: fp32, bf16, fp16, fp8_block128, fp8, int8, mxfp4, int4_g32, "
            "int4_g128, int4)",
        ),
        (
            {"batch": [1, 0]},
            InputError,
            "formula 'kv_cache_bytes': argument 'batch' must be positive; got 0",
        ),
        (
            {"seq_len": Q_([1, 2], "GB")},
            UnitError,
            "argument 'seq_len' to formula 'kv_cache_bytes' must be in units convertible to "
            "'token' (dimensionless); got 'GB' ([information])",
        ),
        (
            {"seqlen": [1, 2]},
            UnknownNameError,
            "formula 'kv_cache_bytes': unknown input 'seqlen'; did you mean 'seq_len'? "
            "(inputs: layers, n_kv_heads, head_dim, seq_len, batch, kv_bytes)",
        ),
    ],
)
def test_bad_sweeps_are_refused_with_the_call_messages(changes, error, message):
    values = dict(seq_len=[1000, 2000], batch=[1, 2], kv_bytes=2, **KV_FIXED)
    values.update(changes)
    with pytest.raises(error) as info:
        F.kv_cache_bytes.sweep(**values)
    assert str(info.value) == message


def test_import_llmphys_does_not_import_xarray_or_pandas():
    code = "import sys, llmphys; print([m for m in ('xarray', 'pandas') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
