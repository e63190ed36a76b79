"""Per-layer bound and fallback, totals time_s: the JSON fields issue 9 adds."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.load import load_arch
from simulator.simulate import compare_to_dense, simulate, simulate_layer
from workloads.layers import Gemm
from workloads.pruning import prune_nm
from workloads.resolve import load_workload
from workloads.sparsity import NM
from workloads.sparsity_spec import parse_sparsity
from workloads.workload import LayerWorkload


def test_fallback_says_which_mode_ran_and_why():
    vegeta = load_arch("vegeta")  # 1:4, 2:4, 4:4
    rng = np.random.default_rng(0)
    layer = Gemm("g", 64, 32, 64)
    unstructured = LayerWorkload(layer, mask=rng.random((64, 32)) < 0.25)
    fb = simulate_layer(unstructured, vegeta).fallback
    assert fb["mode"] == "dense" and "none of the array's patterns" in fb["reason"]
    w, mask = prune_nm(rng.integers(-128, 128, size=(64, 32)), NM(1, 8), axis=0)
    one8 = LayerWorkload(layer, weights=w, mask=mask, density=1 / 8, pattern=NM(1, 8))
    fb = simulate_layer(one8, vegeta).fallback
    assert fb["mode"] == "1:4" and "1:8 is not supported; 1:4" in fb["reason"]
    w, mask = prune_nm(rng.integers(-128, 128, size=(64, 32)), NM(2, 4), axis=0)
    exact = LayerWorkload(layer, weights=w, mask=mask, density=0.5, pattern=NM(2, 4))
    assert simulate_layer(exact, vegeta).fallback is None
    assert simulate_layer(exact, load_arch("tpu-v1")).fallback["mode"] == "dense"


def test_bound_names_compute_or_the_limiting_level():
    tpu = load_arch("tpu-v1")
    gemv = load_workload("gemm:1x4096x4096", parse_sparsity("dense")).layers[0]
    assert simulate_layer(gemv, tpu).bound == "dram"
    big = load_workload("gemm:4096x1024x1024", parse_sparsity("dense")).layers[0]
    res = simulate_layer(big, tpu)
    assert res.bound == "compute" or res.cycles.memory_stall > 0
    # a stall no level's traffic explains (the exposed first weight tile) leaves a
    # layer compute bound: every level's traffic fits within its compute cycles
    gemm = load_workload("gemm:2048x2048x2048", parse_sparsity("dense"))
    inside = simulate(gemm, tpu, io_on_chip=True).layers[0]
    assert inside.cycles.memory_stall > 0 and inside.bound == "compute"


def test_time_s_is_cycles_over_the_clock_and_json_carries_the_new_fields():
    arch = load_arch("edge")
    comp = compare_to_dense(load_workload("gemm:256x256x256", parse_sparsity("nm:2:4")), arch)
    doc = comp.to_dict()
    assert doc["totals"]["time_s"] == pytest.approx(
        doc["totals"]["cycles"]["total"] / (arch.clock_mhz * 1e6)
    )
    assert doc["dense_totals"]["time_s"] > doc["totals"]["time_s"]
    assert doc["totals"]["compare"] == "same"
    layer = doc["layers"][0]
    for key in ("bound", "fallback", "levels", "operands", "useful_macs", "compulsory_dram_bytes"):
        assert key in layer
    assert set(layer["levels"]) == {"dram", "glb", "pe_registers"}
    res = simulate(load_workload("gemm:256x256x256", parse_sparsity("dense")), arch)
    assert res.totals.time_s == pytest.approx(res.totals.cycles.total / 500e6)
