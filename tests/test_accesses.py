"""The per-level access model (simulator.accesses) against the loop nest it counts."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mappings.dataflow import Dataflow, Operand
from mappings.mapping import LOOP_ORDERS, LevelTile, Mapping
from simulator.accesses import PE_REGISTERS
from simulator.load import load_arch
from simulator.simulate import nest_of, plan_layer, simulate_layer
from simulator.tiling import LoopNest, analytic_traffic, enumerate_steps, glb_mapping
from workloads.layers import Gemm
from workloads.workload import LayerWorkload


@st.composite
def one_level(draw):
    m, n, k = (draw(st.integers(1, 200)) for _ in range(3))
    # at most ~64 tiles per dimension: the test walks every step
    tile = tuple(draw(st.integers(max(1, -(-d // 4)), d)) for d in (m, n, k))
    order = draw(st.sampled_from(LOOP_ORDERS))
    df = draw(st.sampled_from(list(Dataflow)))
    return Gemm("g", m, n, k), tile, order, df


def one_level_edge():
    """`edge` with DRAM and the GLB only, DRAM bursts of one byte (exact counts)."""
    arch = load_arch("edge")
    return dataclasses.replace(
        arch, memory=dataclasses.replace(
            arch.memory, levels=(dataclasses.replace(arch.dram, burst_bytes=1), arch.glb)
        )
    )  # fmt: skip


@given(one_level())
def test_dram_accesses_equal_the_enumerated_glb_loop_nest(case):
    """One tiled level: DRAM reads/updates from the closed form equal the steps
    of the loop nest the memory simulation walks (burst rounding aside)."""
    layer, tile, order, df = case
    arch = one_level_edge()
    lw = LayerWorkload(layer)
    res = simulate_layer(lw, arch, glb_mapping(df, tile, order))
    plan = plan_layer(lw, arch)
    nest = LoopNest(plan.gemm, 1, tile, order)
    traffic = analytic_traffic(nest, plan.sizes)
    steps = enumerate_steps(nest, plan.sizes, None)
    dram = res.levels["dram"]["accesses"]
    loads = {op: 0.0 for op in Operand}
    for s in steps:
        for op, b in s.loads:
            loads[op] += b
    assert dram["inputs"]["reads_bytes"] == pytest.approx(loads[Operand.INPUTS])
    assert dram["weights"]["reads_bytes"] == pytest.approx(loads[Operand.WEIGHTS])
    assert dram["outputs"]["reads_bytes"] == pytest.approx(traffic.psum_reads)
    assert dram["outputs"]["updates_bytes"] == pytest.approx(traffic.output_writes)
    # what DRAM sends, the GLB is filled with
    glb = res.levels["glb"]["accesses"]
    for op in ("inputs", "weights"):
        assert glb[op]["fills_bytes"] == pytest.approx(dram[op]["reads_bytes"])
    # Timeloop's read-modify-write: every update of an output but its first reads
    # the partial sum; the drain to DRAM is DRAM's update, not a GLB read
    acc_bytes = arch.pe_array.acc_bits / 8
    first_writes = plan.gemm.m * plan.gemm.n * acc_bytes
    out = glb["outputs"]
    assert out["reads_bytes"] == pytest.approx(out["updates_bytes"] - first_writes)
    assert out["fills_bytes"] == pytest.approx(dram["outputs"]["reads_bytes"])


def test_partial_sums_stay_in_the_accumulators_unless_the_loop_order_spills_them():
    arch = load_arch("tpu-v1")  # its 4 MiB accumulators are a level inside the Unified Buffer
    lw = LayerWorkload(Gemm("g", 512, 256, 2048))
    plan = plan_layer(lw, arch)
    keep = Mapping(
        Dataflow.WS,
        (LevelTile("glb", 512, 256, 2048), LevelTile("accumulators", 512, 256, 256, "nmk")),
    )
    res = simulate_layer(lw, arch, keep)
    acc = res.levels["accumulators"]["accesses"]["outputs"]
    out = 512 * 256
    # 8 K tiles accumulate in place: nothing read back from the GLB
    assert acc["fills_bytes"] == 0
    assert res.levels["glb"]["accesses"]["outputs"]["updates_bytes"] == out  # final, 8-bit
    assert acc["updates_bytes"] == out * 4 * 8  # one update per K fold (256 rows)
    # k outermost at the accumulators: each K tile's partials leave and come back
    spill = Mapping(
        Dataflow.WS,
        (
            LevelTile("glb", 512, 256, 2048),
            LevelTile("accumulators", 256, 256, 256, "kmn"),
        ),
    )
    res2 = simulate_layer(lw, arch, spill)
    acc2 = res2.levels["accumulators"]["accesses"]["outputs"]
    assert acc2["fills_bytes"] == out * 4 * 7  # 7 read-backs of 32-bit partials
    assert res2.energy_pj["glb"] > res.energy_pj["glb"]
    assert nest_of(plan, spill).levels[-1].holds == (Operand.OUTPUTS,)


def test_every_level_is_priced_and_registers_are_counted():
    arch = load_arch("eyeriss")
    res = simulate_layer(LayerWorkload(Gemm("g", 64, 64, 64)), arch)
    assert set(res.levels) == {"dram", "glb", PE_REGISTERS}
    for name, lv in res.levels.items():
        assert lv["energy_pj"]["total"] > 0, name
        assert res.energy_pj[name] == pytest.approx(
            lv["energy_pj"]["read"] + lv["energy_pj"]["fill"] + lv["energy_pj"]["update"]
        )
    assert res.energy_pj["network"] > 0
    parts = sum(v for k, v in res.energy_pj.items() if k != "total")
    assert res.energy_pj["total"] == pytest.approx(parts)


@given(one_level())
def test_pes_without_registers_read_the_innermost_level_every_mac(case):
    """`keeps_operands: false` (a MAC wired to its buffer, as Timeloop's designs
    without a register level): the innermost level serves both operands of every
    MAC and read-modify-writes every partial sum there (the first update of
    each output reads nothing); the PEs' registers see nothing; what the levels
    above move does not change."""
    layer, tile, order, df = case
    arch = load_arch("edge")
    bare = dataclasses.replace(
        arch, pe_array=dataclasses.replace(arch.pe_array, keeps_operands=False)
    )
    lw = LayerWorkload(layer)
    mapping = glb_mapping(df, tile, order)
    kept, bare_res = simulate_layer(lw, arch, mapping), simulate_layer(lw, bare, mapping)
    plan = plan_layer(lw, bare)
    g = plan.gemm
    macs = g.m * g.n * g.k
    glb = bare_res.levels["glb"]["accesses"]
    assert glb["weights"]["reads_bytes"] == pytest.approx(macs * plan.sizes.weights / (g.k * g.n))
    assert glb["inputs"]["reads_bytes"] == pytest.approx(macs * plan.sizes.input_element_bytes(g))
    acc = bare.pe_array.acc_bits / 8
    assert glb["outputs"]["updates_bytes"] == pytest.approx(macs * acc)
    assert glb["outputs"]["reads_bytes"] == pytest.approx((macs - g.m * g.n) * acc)
    regs = bare_res.levels[PE_REGISTERS]["accesses"]
    assert all(v == 0 for a in regs.values() for v in a.values())
    assert bare_res.levels["dram"]["accesses"] == kept.levels["dram"]["accesses"]
    for op in ("weights", "inputs"):
        assert glb[op]["fills_bytes"] == kept.levels["glb"]["accesses"][op]["fills_bytes"]


def test_tpu_v1_weight_fifo_stages_weight_tiles_and_accumulators_keep_k():
    """The default mapping of a large GEMM on tpu-v1: the weight FIFO holds one
    256 x 256 weight tile (K cut to one fold, looped innermost), the accumulators
    reduce all of K in place, so the Unified Buffer only ever sees final 8-bit
    outputs (no partial sums leave the accumulators) and weights never touch it."""
    arch = load_arch("tpu-v1")
    m = n = k = 4096
    res = simulate_layer(LayerWorkload(Gemm("g", m, n, k)), arch)
    tiles = {t["level"]: t for t in res.mapping["tiles"]}
    assert (tiles["weight_fifo"]["n"], tiles["weight_fifo"]["k"]) == (256, 256)
    acc = res.levels["accumulators"]["accesses"]["outputs"]
    assert acc["fills_bytes"] == 0
    ub = res.levels["glb"]["accesses"]
    assert ub["outputs"]["updates_bytes"] == m * n
    assert "weights" not in ub
    fifo = res.levels["weight_fifo"]["accesses"]["weights"]
    assert fifo["fills_bytes"] == res.levels["dram"]["accesses"]["weights"]["reads_bytes"]


def test_final_outputs_take_the_data_width_outside_the_accumulating_level():
    from simulator.capacity import final_output_levels, level_need_bytes

    arch = load_arch("tpu-v1")
    lw = LayerWorkload(Gemm("g", 2048, 512, 4096))
    plan = plan_layer(lw, arch)
    keep = Mapping(Dataflow.WS, (LevelTile("glb", 2048, 256, 4096),), "nmk")
    kept = nest_of(plan, keep)
    assert final_output_levels(kept) == {"glb"}
    need = level_need_bytes(kept, plan.sizes, arch)
    assert need["glb"][Operand.OUTPUTS] == 2 * 2048 * 256  # 8-bit, double-buffered
    assert need["accumulators"][Operand.OUTPUTS] == 2 * 2048 * 256 * 4  # 32-bit partials
    # K outside the moving n loop: partial sums spill to the Unified Buffer at 32 bits
    spill = Mapping(Dataflow.WS, (LevelTile("glb", 2048, 256, 1024),), "kmn")
    spilled = nest_of(plan, spill)
    assert final_output_levels(spilled) == set()
    assert level_need_bytes(spilled, plan.sizes, arch)["glb"][Operand.OUTPUTS] == 2 * 2048 * 256 * 4


def _zeros(arch, gate: bool, skip: bool, keeps: bool):
    return dataclasses.replace(
        arch, pe_array=dataclasses.replace(
            arch.pe_array, zero_gating=gate, activation_skipping=skip, keeps_operands=keeps
        ),
    )  # fmt: skip


@given(one_level(), st.sampled_from([0.125, 0.25, 0.5, 0.75, 1.0]), st.booleans())
def test_without_registers_a_zero_activation_saves_its_weight_read_and_psum_update(
    case, density, skip
):
    """A MAC wired to its buffer (`keeps_operands: false`, Sparseloop's designs
    without a register level), zeros gated or skipped: each zero activation's MAC
    reads no weight and read-modify-writes no partial sum at the innermost level
    (gated, its activation is still read: it shows the zero); each output's first
    real MAC reads nothing; what the levels above move does not change."""
    layer, tile, order, df = case
    base = one_level_edge()
    dense_arch = _zeros(base, True, False, False)
    sparse_arch = _zeros(base, not skip, skip, False)
    mapping = glb_mapping(df, tile, order)
    dense = simulate_layer(LayerWorkload(layer), dense_arch, mapping)
    lw = LayerWorkload(layer, activation_density=density)
    sparse = simulate_layer(lw, sparse_arch, mapping)
    assert sparse.effective_macs == sparse.macs  # dense weights: the MACs left are
    done = density  # those of the nonzero activations (in expectation)
    d, s = dense.levels["glb"]["accesses"], sparse.levels["glb"]["accesses"]
    assert s["weights"]["reads_bytes"] == pytest.approx(d["weights"]["reads_bytes"] * done)
    out_updates = d["outputs"]["updates_bytes"] * done
    assert s["outputs"]["updates_bytes"] == pytest.approx(out_updates)
    started = layer.m * layer.n * sparse_arch.pe_array.acc_bits / 8
    assert s["outputs"]["reads_bytes"] == pytest.approx(max(0.0, out_updates - started))
    if not skip:
        assert s["inputs"]["reads_bytes"] == pytest.approx(d["inputs"]["reads_bytes"])
    assert s["inputs"]["reads_bytes"] <= d["inputs"]["reads_bytes"] * (1 + 1e-9)
    assert sparse.levels["dram"]["accesses"] == dense.levels["dram"]["accesses"]
    if density == 1.0:
        assert sparse.levels == dense.levels


@given(one_level(), st.sampled_from([0.125, 0.25, 0.5, 1.0]))
def test_gated_psum_reads_skip_each_partial_sums_first_real_mac(case, density):
    """PE registers under zero gating: every partial-sum update but the first real
    MAC of each partial sum the array sends out reads the sum back (a gated MAC
    neither reads nor starts one), so reads = updates - partial sums sent out."""
    layer, tile, order, df = case
    arch = _zeros(one_level_edge(), True, False, True)
    lw = LayerWorkload(layer, activation_density=density)
    res = simulate_layer(lw, arch, glb_mapping(df, tile, order))
    regs = res.levels[PE_REGISTERS]["accesses"]["outputs"]
    sent = res.levels["glb"]["accesses"]["outputs"]["updates_bytes"]
    assert regs["reads_bytes"] == pytest.approx(max(0.0, regs["updates_bytes"] - sent))


GATING_SUBSETS = [(), (Operand.WEIGHTS,), (Operand.OUTPUTS,), (Operand.WEIGHTS, Operand.OUTPUTS)]


@given(
    one_level(),
    st.sampled_from([0.125, 0.25, 0.5, 0.75, 1.0]),
    st.booleans(),
    st.sampled_from(GATING_SUBSETS),
)
def test_gating_saves_only_the_chosen_reads(case, density, keeps, saves):
    """`pe_array.gating_saves` (Sparseloop's gating SAFs, per data space): a gated
    zero saves the weight read and / or the partial sum's read-modify-write where
    the MAC reads them (registers, or the innermost level without them), nothing
    else; a reduced set never costs less energy than saving both, and all of it
    equals today's semantics."""
    layer, tile, order, df = case
    base = _zeros(one_level_edge(), True, False, keeps)
    chosen = dataclasses.replace(
        base, pe_array=dataclasses.replace(base.pe_array, gating_saves=saves)
    )
    mapping = glb_mapping(df, tile, order)
    lw = LayerWorkload(layer, activation_density=density)
    full = simulate_layer(lw, base, mapping)
    part = simulate_layer(lw, chosen, mapping)
    none = simulate_layer(lw, dataclasses.replace(
        base, pe_array=dataclasses.replace(base.pe_array, gating_saves=())
    ), mapping)  # fmt: skip
    # compute cycles do not move (gating saves energy); without registers the reads a
    # gated MAC does not save load the buffer's port, so stalls may
    assert part.cycles.compute == full.cycles.compute
    if keeps:
        assert part.cycles == full.cycles
    assert part.energy_pj["total"] >= full.energy_pj["total"] * (1 - 1e-12)
    assert none.energy_pj["total"] >= part.energy_pj["total"] * (1 - 1e-12)
    assert part.energy_pj["mac"] == full.energy_pj["mac"]
    where = PE_REGISTERS if keeps else "glb"
    f, p, n = (r.levels[where]["accesses"] for r in (full, part, none))
    for op, acts in (
        (Operand.WEIGHTS, ("reads_bytes",)),
        (Operand.OUTPUTS, ("updates_bytes", "reads_bytes")),
    ):
        want = f if op in saves else n
        for a in acts:
            assert p[op.value][a] == pytest.approx(want[op.value][a])
    assert p["inputs"] == f["inputs"] == n["inputs"]
    if saves == (Operand.WEIGHTS, Operand.OUTPUTS):
        assert part.levels == full.levels and part.energy_pj == full.energy_pj
    if density == 1.0 and not keeps:  # (registers also gate the array's idle slots)
        assert part.levels == full.levels


@given(
    one_level(),
    st.sampled_from([0.125, 0.25, 0.5, 1.0]),
    st.sampled_from([0.125, 0.25, 0.5, 1.0]),
    st.booleans(),
)
def test_reads_conditioned_on_the_weights_too_intersect_the_operands(case, d_w, d_a, keeps):
    """`gating_saves` with inputs: a zero weight's MAC reads no input, at the layer's
    weight density (Sparseloop's Inputs SAF conditioned on Weights); with weights and
    outputs too, the two-operand intersection (spMspM): weight reads kept where the
    input is nonzero, MACs and partial-sum read-modify-writes where both are. Compute
    cycles do not move."""
    layer, tile, order, df = case
    base = _zeros(one_level_edge(), True, False, keeps)
    both = dataclasses.replace(
        base, pe_array=dataclasses.replace(base.pe_array, gating_saves=tuple(Operand))
    )
    mapping = glb_mapping(df, tile, order)
    lw = LayerWorkload(layer, density=d_w, activation_density=d_a)
    assume(lw.weight_nonzeros > 0)
    d_w = lw.weight_nonzeros / (layer.k * layer.n)  # (the count the layer rounds to)
    plain = simulate_layer(lw, base, mapping)
    inter = simulate_layer(lw, both, mapping)
    assert inter.cycles.compute == plain.cycles.compute
    assert inter.energy_pj["mac"] == plain.energy_pj["mac"]
    where = PE_REGISTERS if keeps else "glb"
    p, i = plain.levels[where]["accesses"], inter.levels[where]["accesses"]
    assert i["inputs"]["reads_bytes"] == pytest.approx(p["inputs"]["reads_bytes"] * d_w)
    assert i["outputs"]["updates_bytes"] == pytest.approx(p["outputs"]["updates_bytes"])
    if not keeps:  # the MAC reads the buffer: Sparseloop's expectation, read by read
        dense = simulate_layer(LayerWorkload(layer), base, mapping).levels["glb"]["accesses"]
        done = d_w * d_a
        assert i["weights"]["reads_bytes"] == pytest.approx(dense["weights"]["reads_bytes"] * d_a)
        assert i["outputs"]["updates_bytes"] == pytest.approx(
            dense["outputs"]["updates_bytes"] * done
        )
        assert i["outputs"]["reads_bytes"] == pytest.approx(dense["outputs"]["reads_bytes"] * done)
    else:
        # a weight read is now kept by its input alone (the zero weight is read: it
        # conditions the input read), never fewer than when either zero saved it
        assert i["weights"]["reads_bytes"] >= p["weights"]["reads_bytes"] * (1 - 1e-12)
    if d_w == 1.0 and keeps:
        assert inter.levels == plain.levels


def test_weight_conditioned_gating_runs_under_the_default_mapping_search():
    """The default tiling (cached by the layer's numbers, not the layer) and the public
    path carry the weights' density: the conditioned input reads follow it."""
    arch = load_arch("edge")
    both = dataclasses.replace(
        arch, pe_array=dataclasses.replace(arch.pe_array, gating_saves=tuple(Operand))
    )
    layer = Gemm("g", 256, 256, 256)
    sparse = simulate_layer(LayerWorkload(layer, density=0.25), both)
    dense = simulate_layer(LayerWorkload(layer), both)
    assert (
        sparse.cycles.compute
        == simulate_layer(LayerWorkload(layer, density=0.25), arch).cycles.compute
    )
    s, d = (r.levels[PE_REGISTERS]["accesses"]["inputs"]["reads_bytes"] for r in (sparse, dense))
    assert s == pytest.approx(d * 0.25)


@given(
    one_level(),
    st.sampled_from(["bitmask", "csr", "rle", "uop_cp"]),
    st.sampled_from([0.25, 0.5, 1.0]),
    st.sampled_from([0.25, 0.5, 1.0]),
)
def test_without_registers_compressed_weights_are_read_as_their_nonzeros_once(case, fmt, d_w, d_a):
    """PEs without registers, zeros gated: the weight data read from the buffer is the
    same whether the weights are stored dense or compressed (the stored nonzeros are
    not thinned by the weights' density a second time)."""
    from simulator.arch import WeightFormat

    layer, tile, order, df = case
    base = _zeros(one_level_edge(), True, False, False)
    packed = dataclasses.replace(
        base, memory=dataclasses.replace(base.memory, weight_format=WeightFormat(fmt))
    )
    mapping = glb_mapping(df, tile, order)
    lw = LayerWorkload(layer, density=d_w, activation_density=d_a)
    assume(lw.weight_nonzeros > 0)
    plain = simulate_layer(lw, base, mapping).levels["glb"]["accesses"]["weights"]
    sizes = plan_layer(lw, packed).sizes
    share = (sizes.weights - sizes.weight_metadata) / sizes.weights
    got = simulate_layer(lw, packed, mapping).levels["glb"]["accesses"]["weights"]
    assert got["reads_bytes"] * share == pytest.approx(plain["reads_bytes"])
