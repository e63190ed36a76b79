"""The memory hierarchy: graph from the spec, loop-nest traffic, the simpy model,
its steady-state fast path, formats, capacity, and memory-bound behaviour."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from mappings.dataflow import Dataflow, Operand
from mappings.mapping import LOOP_ORDERS
from simulator.arch import (
    ARRAY_NODE,
    LevelKind,
    MemLevelSpec,
    MemorySpec,
    WeightFormat,
    parse_arch,
    preset_path,
)
from simulator.formats import operand_bytes, weight_bits
from simulator.load import load_arch
from simulator.memory import (
    StepCost,
    _transfer_cycles,
    hops_of,
    path_cycles,
    run_memory,
    simulate_steps,
    store_and_forward_cycles,
)
from simulator.simulate import (
    _Evaluator,
    _step_nominal,
    compare_to_dense,
    plan_layer,
    simulate_layer,
)
from simulator.tiling import (
    LoopNest,
    Step,
    analytic_traffic,
    enumerate_steps,
    fits,
    glb_mapping,
)
from workloads.layers import Gemm, GemmShape
from workloads.resolve import load_workload
from workloads.sparsity import NM
from workloads.sparsity_spec import parse_sparsity
from workloads.workload import LayerWorkload


def _edge_doc():
    return yaml.safe_load(preset_path("edge").read_text())


def test_hierarchy_is_a_graph_and_a_new_level_is_data():
    arch = load_arch("edge")
    g = arch.memory.graph()
    assert list(g.edges) == [("dram", "glb"), ("glb", ARRAY_NODE)]
    doc = _edge_doc()
    doc["memory"]["l2"] = {
        "kind": "sram",
        "parent": "dram",
        "capacity_kib": 1024,
        "bandwidth_bytes_per_cycle": 32,
        "latency_cycles": 20,
    }
    doc["memory"]["glb"]["parent"] = "l2"
    three = parse_arch(doc, "three-level.yaml")
    assert [lv.name for lv in three.memory.path_to_array()] == ["dram", "l2", "glb"]
    lw = load_workload("gemm:256x256x256", parse_sparsity("dense")).layers[0]
    two, more = simulate_layer(lw, arch), simulate_layer(lw, three)
    # the extra hop costs time (latency, store and forward), never saves it
    assert more.cycles.total >= two.cycles.total
    assert more.cycles.compute == two.cycles.compute


@st.composite
def nests(draw):
    g = GemmShape(draw(st.integers(1, 60)), draw(st.integers(1, 60)), draw(st.integers(1, 60)))
    tile = tuple(draw(st.integers(1, d)) for d in (g.m, g.n, g.k))
    return LoopNest(g, draw(st.integers(1, 3)), tile, draw(st.sampled_from(LOOP_ORDERS)))


def _sizes(nest):
    g = nest.gemm
    arch = load_arch("edge")
    return operand_bytes(g.k, g.n, g.m, g.k * g.n * 0.5, g.m * g.k, 1.0, arch, NM(2, 4))


@given(nests(), st.sampled_from([None, 4]))
def test_analytic_traffic_equals_the_enumerated_loop_nest(nest, window):
    """Closed-form reuse == summing every step's loads and write-backs (truncated
    enumeration with multiplicities stands for the full one)."""
    sizes = _sizes(nest)
    steps = enumerate_steps(nest, sizes, window)
    assert sum(s.weight for s in steps) == nest.steps
    traffic = analytic_traffic(nest, sizes)
    loads = {op: 0.0 for op in Operand}
    for s in steps:
        for op, b in s.loads:
            loads[op] += s.weight * b
    assert loads[Operand.INPUTS] == pytest.approx(traffic.inputs)
    assert loads[Operand.WEIGHTS] == pytest.approx(traffic.weights)
    assert loads[Operand.OUTPUTS] == pytest.approx(traffic.psum_reads)
    writes = sum(s.weight * s.write_bytes for s in steps)
    assert writes == pytest.approx(traffic.output_writes)


@given(nests(), st.sampled_from(["edge", "a100-sparse"]), st.integers(1, 4))
def test_steady_state_extrapolation_equals_the_full_simulation(nest, preset, stages):
    """The fast path (a few iterations per loop, the rest by the measured period)
    ends at the same cycle as simulating every step."""
    arch = load_arch(preset)
    memory = dataclasses.replace(arch.memory, stages=stages)
    lw = LayerWorkload(Gemm("g", nest.gemm.m, nest.gemm.n, nest.gemm.k))
    plan = plan_layer(lw, arch)
    sizes = plan.sizes

    def build(window):
        steps = enumerate_steps(nest, sizes, window)
        costs = []
        for s in steps:
            cycles, reads, _ = _step_nominal(plan, Dataflow.WS, s.sizes)
            costs.append(StepCost(cycles, (("glb", reads),)))
        return steps, costs

    fast = run_memory(memory, build, tail_cycles=7)
    full = run_memory(memory, lambda _w: build(None), tail_cycles=7)
    assert fast.end_cycles == full.end_cycles
    assert full.simulated_steps == nest.steps
    assert fast.simulated_steps <= full.simulated_steps


def test_double_buffering_hides_loads():
    arch = load_arch("edge")
    single = dataclasses.replace(arch, memory=dataclasses.replace(arch.memory, stages=1))
    lw = load_workload("gemm:512x512x512", parse_sparsity("dense")).layers[0]
    mapping = glb_mapping(Dataflow.WS, (128, 64, 64), "nmk")
    db, sb = simulate_layer(lw, arch, mapping), simulate_layer(lw, single, mapping)
    assert db.cycles.compute == sb.cycles.compute
    assert db.cycles.memory_stall < sb.cycles.memory_stall


def test_default_tiling_does_not_reread_the_streamed_operand_per_column_fold():
    """1024^3 on edge: the old loop nest re-read A from DRAM once per column fold
    (64 x 1 MiB, 21x compulsory); the default tiling keeps DRAM traffic well below.
    (With loads overlapped by a multistage loader, 512 x 32 x 96 tiles run stall-free
    and take the fewest cycles at 11.7x compulsory; the objective is cycles.)"""
    arch = load_arch("edge")
    lw = load_workload("gemm:1024x1024x1024", parse_sparsity("dense")).layers[0]
    res = simulate_layer(lw, arch)
    compulsory = 3 * 1024 * 1024
    assert res.dram_bytes < 16 * compulsory
    assert res.cycles.memory_stall < 0.05 * res.cycles.compute  # compute-bound when tiled well
    tile = res.mapping["tiles"][0]
    nest = LoopNest(lw.gemm, 1, (tile["m"], tile["n"], tile["k"]), res.mapping["loop_order"])
    assert fits(nest, plan_layer(lw, arch).sizes, arch)


def test_memory_bound_gemv_on_tpu_v1_and_compute_bound_gemm():
    """Batch-1 GEMV on tpu-v1: every weight crosses DRAM for one MAC, so the layer
    is mostly memory stall; 2:4 (on PEs that run it) buys only the weight bytes'
    ratio, far below 2x. A large GEMM on a 2:4 array that is compute-bound: ~2x."""
    tpu = load_arch("tpu-v1")
    wl = load_workload("gemm:1x4096x4096", parse_sparsity("nm:2:4"))
    res = simulate_layer(load_workload("gemm:1x4096x4096", parse_sparsity("dense")).layers[0], tpu)
    assert res.cycles.memory_stall > 0.5 * res.cycles.total
    # tpu-v1 itself has no 2:4 mode: the pruned layer runs dense, stored dense
    as_is = compare_to_dense(wl, tpu)
    assert as_is.sparse.layers[0].mode == "dense" and as_is.speedup == pytest.approx(1.0)
    # the activations in the Unified Buffer (as inside a network): only weights move
    comp = compare_to_dense(wl, load_arch("tpu-v1-2of4"), io_on_chip=True)
    assert comp.compute_speedup == pytest.approx(2.0, rel=0.05)
    # memory-bound: 8 bits per dense weight against 4 bits of values + 1 of indices
    assert comp.speedup == pytest.approx(8 / 5, rel=0.03)
    # edge's 256 KiB GLB puts a 2:4 GEMM at the roofline's knee (~64 MACs per DRAM
    # byte at most); with 1 MiB it is compute-bound
    edge = load_arch("edge")
    glb = dataclasses.replace(edge.glb, capacity_bytes=1 << 20)
    edge = dataclasses.replace(
        edge, memory=dataclasses.replace(edge.memory, levels=(edge.dram, glb))
    )
    big = compare_to_dense(load_workload("gemm:2048x2048x2048", parse_sparsity("nm:2:4")), edge)
    assert big.dense.layers[0].cycles.memory_stall < 0.01 * big.dense.layers[0].cycles.total
    assert big.speedup == pytest.approx(2.0, rel=0.02)


@pytest.mark.parametrize(
    ("fmt", "expected_bits", "meta_bits"),
    [
        (WeightFormat.DENSE, 64 * 8 * 8, 0),
        (WeightFormat.NM, 16 * 8 * 2 * (8 + 2), 16 * 8 * 2 * 2),  # 16 groups/col, 2 values+idx
        (WeightFormat.BITMASK, 256 * 8 + 64 * 8, 64 * 8),
        (WeightFormat.CSR, 256 * (8 + 6) + 9 * 9, 256 * 6 + 9 * 9),
    ],
)
def test_compressed_formats_count_their_metadata(fmt, expected_bits, meta_bits):
    """K = 64, N = 8, 256 nonzeros (2:4), 8-bit values."""
    bits, meta = weight_bits(64, 8, 256, 8, fmt, NM(2, 4))
    assert bits == expected_bits and meta == meta_bits


def test_format_changes_bytes_moved():
    lw = load_workload("gemm:256x256x256", parse_sparsity("nm:1:4")).layers[0]
    base = load_arch("vegeta")
    moved = {}
    for fmt in (WeightFormat.DENSE, WeightFormat.NM, WeightFormat.BITMASK, WeightFormat.CSR):
        arch = dataclasses.replace(base, memory=dataclasses.replace(base.memory, weight_format=fmt))
        res = simulate_layer(lw, arch, glb_mapping(Dataflow.WS, (256, 256, 256), "nmk"))
        assert res.weight_format == fmt.value
        moved[fmt] = res.dram_bytes
    assert moved[WeightFormat.NM] < moved[WeightFormat.DENSE]
    # 1:4 values + 2-bit indices (2.5 bits/weight) beat a 1-bit mask + values (3 bits)
    assert moved[WeightFormat.NM] < moved[WeightFormat.BITMASK] < moved[WeightFormat.DENSE]


def test_capacity_is_per_level_and_operand():
    tpu = load_arch("tpu-v1")
    lw = LayerWorkload(Gemm("g", 1024, 1024, 1024))
    sizes = plan_layer(lw, tpu).sizes
    # 1 MiB of weights cannot sit in the 256 KiB weight FIFO (weights bypass the
    # Unified Buffer), activations fit easily in the Unified Buffer
    assert not fits(LoopNest(lw.gemm, 1, (1024, 1024, 1024), "nmk"), sizes, tpu)
    assert fits(LoopNest(lw.gemm, 1, (1024, 256, 256), "nmk"), sizes, tpu)


def test_dram_bytes_round_to_bursts():
    arch = load_arch("edge")
    lw = LayerWorkload(Gemm("g", 3, 5, 7))
    res = simulate_layer(lw, arch)
    assert res.dram_bytes % arch.dram.burst_bytes == 0
    assert res.dram_bytes >= 3 * 7 + 7 * 5 + 3 * 5
    assert math.isfinite(res.energy_pj["total"])


def test_weights_bytes_follow_the_mask_density_for_value_formats():
    g = GemmShape(4, 16, 64)
    arch = load_arch("edge")
    dense = operand_bytes(g.k, g.n, g.m, g.k * g.n, g.m * g.k, 1.0, arch, None)
    sparse = operand_bytes(g.k, g.n, g.m, g.k * g.n / 4, g.m * g.k, 1.0, arch, NM(2, 4))
    assert sparse.weights < dense.weights and sparse.weight_metadata > 0
    assert np.isclose(dense.weight_compression, 1.0)


@st.composite
def chains(draw):
    """A DRAM and 0-3 on-chip levels down to a GLB, random ports and latencies."""
    bw = st.sampled_from([1.0, 3.0, 8.0, 16.0, 64.0, 512.0, math.inf])
    dram = MemLevelSpec(
        "dram", LevelKind.DRAM, None, draw(bw.filter(math.isfinite)),
        latency_cycles=draw(st.integers(0, 700)), burst_bytes=draw(st.sampled_from([1, 8, 64])),
    )  # fmt: skip
    levels = [dram]
    count = draw(st.integers(0, 3))
    for i in range(count):
        name = "glb" if i == count - 1 else f"l{i}"
        levels.append(
            MemLevelSpec(
                name,
                LevelKind.SRAM,
                levels[-1].name,
                draw(bw),
                1 << 30,
                latency_cycles=draw(st.integers(0, 300)),
                banks=2,
                ports=draw(st.sampled_from([1, 2])),
            )
        )
    return MemorySpec(tuple(levels))


def _one_load(memory: MemorySpec, nbytes: float) -> int:
    step = Step((0, 0, 0, 0), (1, 1, 1, 1), (1, 1, 1), ((Operand.WEIGHTS, nbytes),), 0.0, False,
                (Operand.WEIGHTS,))  # fmt: skip
    end, _ = simulate_steps(memory, [step], [StepCost(0)], 0)
    return end


@given(chains(), st.integers(1, 1 << 20))
def test_a_transfer_cuts_through_its_path(memory, nbytes):
    """Alone on its path a tile takes the hops' latencies plus its bytes at the
    bottleneck port: no less than its slowest hop alone, no more than stored and
    forwarded hop by hop; over one hop exactly what that hop took before."""
    path = memory.path_for(Operand.WEIGHTS)
    t = _one_load(memory, nbytes)
    hops = hops_of(path)
    if all(lv.concurrency > 1 for lv in path[1:]):  # a level fills and forwards at once
        assert t == path_cycles(nbytes, path)
    else:  # a single-ported level takes the bytes in, then reads them out
        assert t >= path_cycles(nbytes, path)
    assert t >= max(_transfer_cycles(nbytes, src, dst) for src, dst in hops)
    assert t <= store_and_forward_cycles(nbytes, path)
    if len(hops) == 1:  # the hop's latency plus the bytes at the slower port, as before
        src, dst = hops[0]
        moved = math.ceil(nbytes / src.burst_bytes) * src.burst_bytes
        ports = [src.bandwidth_bytes_per_cycle] + ([] if dst is None else [dst.port_bandwidth])
        data = 0 if math.isinf(min(ports)) else math.ceil(moved / min(ports))
        assert t == src.latency_cycles + data


@given(chains(), st.integers(1, 1 << 16), st.integers(1 << 10, 1 << 16))
def test_operand_streams_load_at_once(memory, weight_bytes, input_bytes):
    """A step's operands load concurrently: the step is ready no later than the
    two stored-and-forwarded one after the other (the loader before), and no
    sooner than the longer one alone."""
    path = memory.path_for(Operand.WEIGHTS)
    step = Step((0, 0, 0, 0), (1, 1, 1, 1), (1, 1, 1),
                ((Operand.INPUTS, input_bytes), (Operand.WEIGHTS, weight_bytes)), 0.0, False,
                (Operand.INPUTS, Operand.WEIGHTS))  # fmt: skip
    both, _ = simulate_steps(memory, [step], [StepCost(0)], 0)
    alone = [path_cycles(b, path) for b in (weight_bytes, input_bytes)]
    serial = [store_and_forward_cycles(b, path) for b in (weight_bytes, input_bytes)]
    assert max(alone) <= both <= sum(serial)  # the old loader: one after the other


@given(nests(), st.sampled_from(["edge", "vegeta", "eyeriss"]), st.integers(1, 3))
def test_more_stages_never_cost_cycles_and_stall_is_never_negative(nest, preset, stages):
    """One more tile in flight per operand never makes a layer slower, and the
    memory never finishes before the array's own compute."""
    arch = load_arch(preset)
    lw = LayerWorkload(Gemm("g", nest.gemm.m, nest.gemm.n, nest.gemm.k))
    plan = plan_layer(lw, arch)

    def build(window):
        steps = enumerate_steps(nest, plan.sizes, window)
        costs = []
        for s in steps:
            cycles, reads, _ = _step_nominal(plan, Dataflow.WS, s.sizes)
            costs.append(StepCost(cycles, (("glb", reads),)))
        return steps, costs

    runs = [
        run_memory(dataclasses.replace(arch.memory, stages=s), build, tail_cycles=7)
        for s in (stages, stages + 1)
    ]
    assert runs[1].end_cycles <= runs[0].end_cycles
    for run in runs:
        assert run.end_cycles >= run.compute_cycles
        assert run.stall_cycles == run.end_cycles - run.compute_cycles


def test_the_estimate_sees_an_l2_and_the_loaders_latency_on_one_core():
    """A single-core arch with an L2 above its GLB: the mapper's estimate (`_Evaluator`)
    counts the L2's traffic at its port and each load's latency over the longer path,
    as the memory model does, and stays near the simulated cycles."""
    doc = _edge_doc()
    doc["memory"]["l2"] = {
        "kind": "sram", "parent": "dram", "capacity_kib": 1024,
        "bandwidth_bytes_per_cycle": 4, "latency_cycles": 400, "ports": 1,
    }  # fmt: skip
    doc["memory"]["glb"]["parent"] = "l2"
    slow = parse_arch(doc, "slow-l2.yaml")
    arch = load_arch("edge")
    lw = load_workload("gemm:256x256x512", parse_sparsity("dense")).layers[0]
    mapping = glb_mapping(Dataflow.WS, (64, 64, 64), "nmk")
    plain = _Evaluator(plan_layer(lw, arch))(mapping)
    plan = plan_layer(lw, slow)
    est = _Evaluator(plan)(mapping)
    assert est.compute_cycles == plain.compute_cycles
    # every load into the GLB crosses the one L2 port twice (in from DRAM, out to the GLB)
    traffic = analytic_traffic(LoopNest(lw.gemm, 1, (64, 64, 64), "nmk"), plan.sizes)
    l2_bytes = 2 * traffic.reads
    assert est.cycles >= l2_bytes / 4
    assert est.cycles > plain.cycles
    sim = simulate_layer(lw, slow, mapping)
    assert abs(est.cycles - sim.cycles.total) <= 0.25 * sim.cycles.total
