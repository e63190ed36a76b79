"""Network-level scheduling: outputs stay on chip for their consumers when they fit."""

from __future__ import annotations

import pytest

from simulator.load import load_arch
from simulator.simulate import activation_budget_bytes, schedule_residency, simulate
from workloads.resolve import load_workload
from workloads.sparsity_spec import parse_sparsity


@pytest.fixture(scope="module")
def resnet():
    return load_workload("resnet50", parse_sparsity("dense"))


def test_tpu_v1_keeps_resnet50_activations_on_chip(resnet):
    tpu = load_arch("tpu-v1")
    kept = simulate(resnet, tpu)
    spilled = simulate(resnet, tpu, keep_on_chip=False)
    weights = sum(lw.layer.weight_elements for lw in resnet.layers)  # int8: bytes
    first_in = resnet.layers[0].layer.input_elements
    # every weight crosses DRAM once; activations only at the network's ends
    assert weights <= kept.totals.dram_bytes <= 1.05 * (weights + first_in) + 4096
    assert spilled.totals.dram_bytes > 1.5 * kept.totals.dram_bytes
    assert kept.totals.cycles.total < spilled.totals.cycles.total
    doc = kept.to_dict()["layers"]
    first, second = doc[0], doc[1]
    assert first["operands"]["inputs"]["from"] == "host"  # the image comes over PCIe
    assert first["operands"]["weights"]["from"] == "dram"
    assert first["operands"]["outputs"]["to"] == "glb"
    assert second["operands"]["inputs"]["from"] == "glb"
    assert second["operands"]["inputs"]["producers"] == [first["name"]]


def test_residual_branches_stay_live_until_their_last_consumer(resnet):
    tpu = load_arch("tpu-v1")
    plan = schedule_residency(resnet, tpu)
    graph = resnet.graph
    # a layer feeding two consumers (a block input: main branch and shortcut)
    forks = [n for n in graph.nodes if graph.out_degree(n) > 1]
    assert forks
    for fork in forks:
        assert plan[fork].outputs_on_chip
        for consumer in graph.successors(fork):
            assert plan[consumer].inputs_on_chip or len(list(graph.predecessors(consumer))) > 1
    budget = activation_budget_bytes(tpu)
    assert all(r.reserved_bytes <= 0.5 * budget + 1 for r in plan.values())


def test_a_small_buffer_sends_what_does_not_fit_to_dram(resnet):
    edge = load_arch("edge")  # 256 KiB: ResNet-50's early activations (800 KB) cannot stay
    plan = schedule_residency(resnet, edge)
    first = resnet.layers[0].name
    assert not plan[first].outputs_on_chip
    res = simulate(resnet, edge)
    for lr in res.layers:
        assert lr.dram_bytes >= lr.compulsory_dram_bytes * 0.999


def test_io_on_chip_runs_a_gemm_as_a_layer_inside_a_network():
    """TPU v1's roofline premise: activations in the Unified Buffer, only weights
    cross DRAM; the mapping search knows it (no tile, no load for what is there)."""
    tpu = load_arch("tpu-v1")
    wl = load_workload("gemm:2048x2048x2048", parse_sparsity("dense"))
    inside = simulate(wl, tpu, io_on_chip=True)
    alone = simulate(wl, tpu)
    lr = inside.layers[0]
    assert lr.operands["inputs"]["from"] == "glb" and lr.operands["outputs"]["to"] == "glb"
    assert lr.dram_bytes == 2048 * 2048  # the int8 weights, once
    assert lr.compulsory_dram_bytes == 2048 * 2048
    assert inside.totals.utilization >= 0.95  # 1.5x the ridge, weights double-buffered
    assert alone.layers[0].operands["inputs"]["from"] == "host"
    assert alone.totals.utilization < 0.3  # 8 MiB in and out over the 10 GiB/s host link
    # a 64 MiB input does not fit the Unified Buffer's resident share: it comes from DRAM
    big = load_workload("gemm:16384x4096x4096", parse_sparsity("dense"))
    plan = schedule_residency(big, tpu, io_on_chip=True)
    assert not plan[big.layers[0].name].inputs_on_chip


def test_activations_off_chip_cross_the_host_link_weights_the_dram():
    """tpu-v1 (Fig. 1): weights from the DDR3 Weight Memory, activations from the
    host over PCIe, each link timed at its own bandwidth."""
    tpu = load_arch("tpu-v1")
    lr = simulate(load_workload("gemm:2048x2048x2048", parse_sparsity("dense")), tpu).layers[0]
    dram, host = lr.levels["dram"]["accesses"], lr.levels["host"]["accesses"]
    assert set(dram) == {"weights"} and set(host) == {"inputs", "outputs"}
    assert host["inputs"]["reads_bytes"] >= 2048 * 2048
    assert host["outputs"]["updates_bytes"] == 2048 * 2048
    assert lr.dram_bytes == sum(
        a["reads_bytes"] + a["updates_bytes"] for side in (dram, host) for a in side.values()
    )
    # 8 MiB over 10 GiB/s (15.3 bytes per cycle) bounds the layer, far above its compute
    assert lr.bound == "host"
    assert lr.cycles.total >= 2 * 2048 * 2048 / 15.3
