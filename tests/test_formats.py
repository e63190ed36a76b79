"""Sparseloop's rank formats (simulator.formats): held to Timeloop v3's own format
occupancies on the tutorial designs, and their sizes as properties."""

from __future__ import annotations

import dataclasses
import math
import re

import pytest
import yaml
from hypothesis import assume, example, given
from hypothesis import strategies as st

from mappings.dataflow import Operand
from simulator.arch import ActivationFormat, WeightFormat, parse_arch, preset_path
from simulator.formats import (
    RANK_FORMATS,
    Distribution,
    RankFormat,
    operand_bytes,
    rank_format_bits,
    rank_occupancy,
    weight_bits,
)
from simulator.load import load_arch
from simulator.spec_reader import SpecError
from sparsim.validate import timeloop_root

TUTORIAL = timeloop_root() / "sparse_sparseloop_tutorial_model"
U, C, R = RankFormat.UOP, RankFormat.CP, RankFormat.RLE
# (case, level, data space) -> the rank shape (outer to inner) its design's format
# ranks take, from the problem's dimensions and the design's rank order
SHAPES = {
    ("01.2.3-SCDU-dot-product", "Buffer", "A"): (16,),  # K
    ("02.2.1-spMspM", "Buffer", "A"): (8, 8),  # M, K
    ("02.2.1-spMspM", "Buffer", "B"): (8, 8),  # N, K
    ("02.2.1-spMspM", "BackingStorage", "A"): (8, 8),
    ("02.2.1-spMspM", "BackingStorage", "B"): (8, 8),
    ("02.2.2-spMspM-tiled", "Buffer", "A"): (8, 8),
    ("02.2.2-spMspM-tiled", "Buffer", "B"): (8, 2),  # N, K1 (K split 4 x 2)
    ("02.2.2-spMspM-tiled", "BackingStorage", "A"): (8, 8),
    ("02.2.2-spMspM-tiled", "BackingStorage", "B"): (4, 8, 2),  # K0, N, K1
    ("03.2.1-conv1d", "Buffer", "Weights"): (3,),  # R
    ("03.2.1-conv1d", "BackingStorage", "Weights"): (3,),
    ("03.2.2-conv1d+oc", "Buffer", "Weights"): (16, 3),  # K (output channels), R
    ("03.2.2-conv1d+oc", "BackingStorage", "Weights"): (16, 3),
    ("03.2.3-conv1d+oc-spatial", "Buffer", "Weights"): (3,),
    ("03.2.3-conv1d+oc-spatial", "BackingStorage", "Weights"): (4, 4, 3),  # K0, K1, R
    ("04.2.1-eyeriss-like-gating", "DRAM", "Inputs"): (64, 3600),  # C, H x W
    ("04.2.1-eyeriss-like-gating", "DRAM", "Outputs"): (6, 43264),  # M0, M1 x P x Q
}


def _stored_formats(text: str):
    """Every (level, data space) with a format: its format, tile, nonzeros and per rank
    (outer first) Timeloop's (metadata, payload) units as stored."""
    level = space = ""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if m := re.match(r"=== (\S+) ===", line):
            level = m.group(1)
        elif m := re.match(r"    (\w+):$", line):
            space = m.group(1)
            fields = {}
        elif "Data tile shape" in line:
            fields["tile"] = int(line.split(":")[1])
        elif "Max utilized data storage capacity" in line:
            fields["nnz"] = int(line.split(":")[1])
        elif "Representation format" in line:
            fields["format"] = line.split(":")[1].split()
        elif "Max utilized Repr format storage capacity" in line:
            ranks = []
            for nxt in lines[i + 1 :]:
                if not (m := re.search(r"Rank \d+ \(metadata, payload\): \((\d+), (\d+)\)", nxt)):
                    break
                ranks.append((int(m.group(1)), int(m.group(2))))
            if ranks:
                yield level, space, fields, tuple(ranks)


def _tutorial_formats():
    for case in sorted(p.name for p in TUTORIAL.iterdir()):
        text = (TUTORIAL / case / "outputs" / "timeloop-model.stats.txt").read_text()
        for level, space, fields, ranks in _stored_formats(text):
            yield case, level, space, fields, ranks


def test_rank_formats_store_what_sparseloop_stores_on_the_tutorial_designs():
    """Every compressed data space of the Sparseloop tutorial outputs: the rank model's
    (metadata, payload) units per rank equal Timeloop's, at the tile's density
    (fixed-structured, as the designs declare), and the values are the nonzeros.
    (../shared's outputs or the copy in tests/data: a missing tree fails, never skips.)"""
    assert TUTORIAL.is_dir(), f"no Sparseloop tutorial outputs under {TUTORIAL}"
    seen = set()
    for case, level, space, fields, ranks in _tutorial_formats():
        shape = SHAPES[(case, level, space)]
        fmt = tuple(RankFormat(f) for f in fields["format"])
        assert math.prod(shape) == fields["tile"]
        density = fields["nnz"] / fields["tile"]
        got = rank_occupancy(fmt, shape, density, Distribution.FIXED)
        for mine, (meta, payload) in zip(got, ranks, strict=True):
            assert mine.metadata_units == pytest.approx(meta, abs=1e-6)
            assert mine.payload_units == pytest.approx(payload, abs=1e-6)
        seen.add((case, level, space))
    assert seen == set(SHAPES)  # every compressed data space of the tutorial, held


densities = st.floats(0.0, 1.0)
shapes = st.tuples(st.integers(1, 64), st.integers(1, 64))


@given(
    st.sampled_from(sorted(RANK_FORMATS)), shapes, densities, densities, st.sampled_from([4, 8, 16])
)
# found by the thorough profile: lgamma's rounding put an empty tile's probability above 1
@example("rle", (44, 44), 0.0, 6.109532627048857e-16, 4)
def test_rank_format_size_is_monotone_in_density_and_counts_metadata(fmt, shape, d1, d2, bits):
    """More nonzeros never store in fewer bits (data or metadata), in either density
    model; the metadata is counted in the total; at density 1 the values take the
    uncompressed size and the format adds its metadata on top."""
    assume(d1 < d2)
    n = shape[0] * shape[1]
    for dist in Distribution:
        lo, lo_meta = rank_format_bits(fmt, shape, d1, bits, dist)
        hi, hi_meta = rank_format_bits(fmt, shape, d2, bits, dist)
        assert lo <= hi + 1e-9 and lo_meta <= hi_meta + 1e-9
        assert lo == pytest.approx(n * d1 * bits + lo_meta)
        full, meta = rank_format_bits(fmt, shape, 1.0, bits, dist)
        assert full - meta == pytest.approx(n * bits)
        assert meta > 0 or n == 1  # one coordinate per value at least (a 1-element tile: none)


@given(st.sampled_from([f for f in WeightFormat if f.value in RANK_FORMATS]), shapes, densities)
def test_weight_rank_formats_are_priced_per_output_column(fmt, shape, density):
    """A K x N weight matrix in a two-rank format is a fiber per output column over K
    (uop_cp is CSR's layout, its sizes Sparseloop's); the dense format is the
    uncompressed size."""
    n, k = shape
    nnz = density * k * n
    total, meta = weight_bits(k, n, nnz, 8, fmt, None)
    assert (total, meta) == pytest.approx(rank_format_bits(fmt.value, (n, k), density, 8))
    assert weight_bits(k, n, k * n, 8, WeightFormat.DENSE, None) == (k * n * 8, 0.0)


@pytest.mark.parametrize("fmt", sorted(RANK_FORMATS))
def test_rank_formats_are_selectable_per_operand_and_move_their_bytes(fmt):
    """`memory.weight_format` / `memory.activation_format` take the rank formats; the
    stored bytes are the nonzeros plus the format's metadata (never free)."""
    doc = yaml.safe_load(preset_path("edge").read_text())
    doc["memory"]["weight_format"] = fmt
    doc["memory"]["activation_format"] = fmt
    arch = parse_arch(doc, "e.yaml")
    assert arch.memory.weight_format is WeightFormat(fmt)
    assert arch.memory.activation_format is ActivationFormat(fmt)
    k, n, m = 64, 32, 16
    sizes = operand_bytes(k, n, m, 0.25 * k * n, m * k, 0.5, arch, None)
    assert sizes.weights * 8 == pytest.approx(0.25 * k * n * 8 + sizes.weight_metadata * 8)
    assert sizes.weight_metadata > 0 and sizes.input_metadata > 0
    assert sizes.inputs * 8 == pytest.approx(0.5 * m * k * 8 + sizes.input_metadata * 8)
    dense = operand_bytes(k, n, m, 0.25 * k * n, m * k, 0.5, load_arch("edge"), None)
    assert dense.inputs == m * k  # the default stores activations dense


@pytest.mark.parametrize("field", ["weight_format", "activation_format"])
def test_a_bad_rank_format_is_named(field):
    doc = yaml.safe_load(preset_path("edge").read_text())
    doc["memory"][field] = "uop_b"
    with pytest.raises(SpecError, match=rf"memory\.{field}.*uop_cp"):
        parse_arch(doc, "e.yaml")


def test_rank_occupancy_needs_a_dimension_per_rank():
    with pytest.raises(ValueError, match="2 ranks"):
        rank_occupancy((U, C), (8,), 0.5)
    assert dataclasses.is_dataclass(rank_occupancy((R,), (8,), 0.5)[0])


@pytest.mark.parametrize("fmt", ["bitmask", "cp", "uop_rle"])
def test_skipping_pes_read_a_compressed_input_once_compacted(fmt):
    """Skipping PEs read the nonzero activations: stored compressed, that stream is the
    stored bytes (nonzeros + metadata), not a density of them again; its data part
    equals the dense format's compacted stream."""
    from mappings.dataflow import Dataflow
    from simulator.accesses import PE_REGISTERS
    from simulator.simulate import plan_layer, simulate_layer
    from simulator.tiling import glb_mapping
    from workloads.layers import Gemm
    from workloads.workload import LayerWorkload

    base = load_arch("edge")
    pe = dataclasses.replace(base.pe_array, activation_skipping=True)
    dense = dataclasses.replace(base, pe_array=pe)
    packed = dataclasses.replace(
        dense, memory=dataclasses.replace(dense.memory, activation_format=ActivationFormat(fmt))
    )
    lw = LayerWorkload(Gemm("g", 64, 32, 128), activation_density=0.25)
    mapping = glb_mapping(Dataflow.WS, (64, 32, 128), "nmk")
    reads = {}
    for name, arch in (("dense", dense), ("packed", packed)):
        res = simulate_layer(lw, arch, mapping)
        inner = next(n for n in res.levels if n not in ("dram", PE_REGISTERS))
        reads[name] = res.levels[inner]["accesses"]["inputs"]["reads_bytes"]
    sizes = plan_layer(lw, packed).sizes
    share = (sizes.inputs - sizes.input_metadata) / sizes.inputs
    assert reads["packed"] * share == pytest.approx(reads["dense"])
    assert reads["packed"] > reads["dense"]  # the metadata moves too


# --- a format per operand per level (memory.<level>.formats) ---------------------

STORED = ["dense", "bitmask", *sorted(RANK_FORMATS)]  # both operands take these


def test_a_three_rank_format_follows_the_tiling():
    """UOP-UOP-CP at DRAM over a GLB tiled into 4 column blocks: per DRAM tile (the
    whole B) the outer rank runs over the 4 GLB tiles, the inner two over one tile's
    (N, K): 5 + 4 x (2 + 1) offsets, 8 fibers of 4 coordinates at density 0.5 (the
    02.2.2 backing store's outer rank and coordinates; its inner offsets are 4 x (8 + 1):
    Sparseloop's inner ranks follow the buffer's K-outer loops, sparsim's fibers are per
    output column); untiled the outer rank is a single fiber."""
    from mappings.dataflow import Dataflow
    from simulator.accesses import level_format_bytes
    from simulator.simulate import nest_of, plan_layer
    from simulator.tiling import glb_mapping
    from workloads.layers import Gemm
    from workloads.workload import LayerWorkload

    arch = _edge_with({}, {"dram": {"weights": "uop_uop_cp"}})
    lw = LayerWorkload(Gemm("g", 8, 8, 8), density=0.5)
    plan = plan_layer(lw, arch)
    tiled = nest_of(plan, glb_mapping(Dataflow.WS, (8, 2, 8), "nmk"))
    whole = nest_of(plan, glb_mapping(Dataflow.WS, (8, 8, 8), "nmk"))
    total, meta = level_format_bytes(tiled, plan.sizes)[("dram", Operand.WEIGHTS)]
    fixed = rank_occupancy((U, U, C), (4, 2, 8), 0.5, Distribution.FIXED)
    assert [(r.metadata_units, r.payload_units) for r in fixed] == [(0, 5), (0, 12), (32, 0)]
    occ = rank_occupancy((U, U, C), (4, 2, 8), 0.5)  # sparsim's default: uniform random
    expect = sum(r.metadata_bits + r.payload_bits for r in occ) / 8
    assert meta == pytest.approx(expect) and total == pytest.approx(32 + expect)
    untiled = level_format_bytes(whole, plan.sizes)[("dram", Operand.WEIGHTS)]
    assert untiled == pytest.approx(plan.sizes.stored("dram", Operand.WEIGHTS)[:2])
    assert untiled[1] == pytest.approx(rank_format_bits("uop_uop_cp", (1, 8, 8), 0.5, 8)[1] / 8)


def _edge_with(memory: dict, levels: dict[str, dict[str, str]]):
    doc = yaml.safe_load(preset_path("edge").read_text())
    doc["memory"].update(memory)
    for level, formats in levels.items():
        doc["memory"][level]["formats"] = formats
    return parse_arch(doc, "e.yaml")


def _run_levels(arch, lw, tile=(64, 32, 128)):
    from mappings.dataflow import Dataflow
    from simulator.simulate import simulate_layer
    from simulator.tiling import glb_mapping

    res = simulate_layer(lw, arch, glb_mapping(Dataflow.WS, tile, "nmk"))
    return {n: doc["accesses"] for n, doc in res.levels.items()}, res.energy_pj, res.cycles


def _burst_of_a_byte() -> dict:
    doc = yaml.safe_load(preset_path("edge").read_text())
    doc["memory"]["dram"]["burst_bytes"] = 1
    return doc


formats_st = st.sampled_from(STORED)
level_st = st.sampled_from(["dram", "glb"])


tiles_st = st.sampled_from([(64, 32, 128), (32, 16, 64), (16, 32, 32)])


@given(formats_st, formats_st, level_st, st.floats(0.05, 1.0), st.floats(0.05, 1.0), tiles_st)
def test_a_level_format_equal_to_the_memory_wide_one_changes_nothing(w, a, level, dw, da, tile):
    """`memory.<level>.formats` naming the memory-wide formats gives the same
    accesses, energy and cycles as leaving them out, tiled or not (a three-rank
    format follows the tiling either way)."""
    from workloads.layers import Gemm
    from workloads.workload import LayerWorkload

    memory = {"weight_format": w, "activation_format": a}
    plain = _edge_with(memory, {})
    same = _edge_with(memory, {level: {"weights": w, "inputs": a}})
    lw = LayerWorkload(Gemm("g", 64, 32, 128), density=dw, activation_density=da)
    assert _run_levels(same, lw, tile) == _run_levels(plain, lw, tile)


stored_densities = st.just(0.0) | st.floats(0.01, 1.0)


@given(formats_st, formats_st, stored_densities, stored_densities)
def test_a_level_format_moves_that_levels_bytes_only_metadata_counted(w, a, dw, da):
    """A format on DRAM only: DRAM's weight and input reads are the operands in that
    format (nonzeros + metadata, never free), the GLB's fills and reads stay in the
    memory-wide (dense) format: the data is decompressed where it crosses; outputs and
    the PE registers are untouched; a dense level format is the uncompressed size."""
    from simulator.simulate import plan_layer
    from workloads.layers import Gemm
    from workloads.workload import LayerWorkload

    assume(w != "dense" or a != "dense")
    k, n, m = 128, 32, 64
    lw = LayerWorkload(Gemm("g", m, n, k), density=dw, activation_density=da)
    # (DRAM bursts of a byte: the ratio of the bytes moved is the formats')
    dense = parse_arch(_burst_of_a_byte(), "e.yaml")
    doc = _burst_of_a_byte()
    doc["memory"]["dram"]["formats"] = {"weights": w, "inputs": a}
    arch = parse_arch(doc, "e.yaml")
    base, _, base_cycles = _run_levels(dense, lw)
    got, _, cycles = _run_levels(arch, lw)
    sizes = plan_layer(lw, arch).sizes
    for op, fmt in (("weights", w), ("inputs", a)):
        total, meta, name = sizes.stored("dram", Operand(op))
        assert name == fmt
        ratio = total / sizes.whole(Operand(op))[0]
        assert got["dram"][op]["reads_bytes"] == pytest.approx(
            base["dram"][op]["reads_bytes"] * ratio
        )
        density = dw if op == "weights" else da
        elements = k * n if op == "weights" else m * k
        if fmt == "dense":
            assert (total, meta) == (elements, 0.0)  # the dense limit: uncompressed
        else:
            # 8-bit values (a layer holds a whole number of nonzero weights)
            assert total - meta == pytest.approx(elements * density, abs=1.0)
            assert meta > 0 or density == 0
    assert got["glb"] == base["glb"] and got["pe_registers"] == base["pe_registers"]
    assert got["dram"]["outputs"] == base["dram"]["outputs"]
    assert cycles.compute == base_cycles.compute  # a format never changes compute


def test_a_compressed_glb_under_a_dense_dram_stores_and_moves_the_format():
    """GLB-only compression (Eyeriss-style on-chip compression, inverted): DRAM moves
    dense weights, the GLB's fills and the array's reads are the compressed bytes,
    and the GLB's capacity need shrinks with them."""
    from mappings.dataflow import Dataflow
    from simulator.capacity import level_need_bytes
    from simulator.simulate import nest_of, plan_layer
    from simulator.tiling import glb_mapping
    from workloads.layers import Gemm
    from workloads.workload import LayerWorkload

    lw = LayerWorkload(Gemm("g", 64, 32, 128), density=0.25)
    dense = _edge_with({}, {})
    packed = _edge_with({}, {"glb": {"weights": "uop_cp"}})
    base, _, _ = _run_levels(dense, lw)
    got, _, _ = _run_levels(packed, lw)
    sizes = plan_layer(lw, packed).sizes
    ratio = sizes.level_scale("glb", Operand.WEIGHTS)
    assert ratio < 1.0  # a quarter of the values plus offsets and coordinates
    assert got["dram"]["weights"] == base["dram"]["weights"]
    for action in ("reads_bytes", "fills_bytes"):
        assert got["glb"]["weights"][action] == pytest.approx(
            base["glb"]["weights"][action] * ratio
        )
    mapping = glb_mapping(Dataflow.WS, (64, 32, 128), "nmk")
    nest = nest_of(plan_layer(lw, packed), mapping)
    need = level_need_bytes(nest, sizes, packed)["glb"][Operand.WEIGHTS]
    need_dense = level_need_bytes(nest, plan_layer(lw, dense).sizes, dense)["glb"][Operand.WEIGHTS]
    assert need == pytest.approx(need_dense * ratio)


@pytest.mark.parametrize(
    "formats, field, allowed",
    [({"outputs": "nm"}, "formats.outputs", "uop_rle"),
     ({"psums": "rle"}, "formats.psums", "known keys here: inputs, outputs, weights"),
     ({"weights": "auto"}, "formats.weights", "uop_cp"),
     ({"inputs": "csr"}, "formats.inputs", "uop_rle"),
     ({"weights": "zip"}, "formats.weights", "bitmask")],
)  # fmt: skip
def test_a_bad_level_format_is_named(formats, field, allowed):
    doc = yaml.safe_load(preset_path("edge").read_text())
    doc["memory"]["glb"]["formats"] = formats
    with pytest.raises(SpecError, match=rf"memory\.glb\.{re.escape(field)}.*{allowed}"):
        parse_arch(doc, "e.yaml")


def test_a_level_format_for_an_operand_it_does_not_hold_is_named():
    doc = yaml.safe_load(preset_path("edge").read_text())
    doc["memory"]["glb"]["holds"] = ["inputs", "outputs"]
    doc["memory"]["glb"]["formats"] = {"weights": "rle"}
    with pytest.raises(SpecError, match=r"memory\.glb\.formats\.weights.*inputs, outputs"):
        parse_arch(doc, "e.yaml")


@given(formats_st, formats_st, st.sampled_from(["dram", "glb"]))
def test_a_level_format_at_density_one_stores_the_uncompressed_values(w, a, level):
    """The dense limit: at density 1 a level's format stores exactly the uncompressed
    values, plus its metadata (none for dense)."""
    from simulator.simulate import plan_layer
    from workloads.layers import Gemm
    from workloads.workload import LayerWorkload

    arch = _edge_with({}, {level: {"weights": w, "inputs": a}})
    sizes = plan_layer(LayerWorkload(Gemm("g", 16, 8, 32)), arch).sizes
    for op, elements in ((Operand.WEIGHTS, 32 * 8), (Operand.INPUTS, 16 * 32)):
        total, meta, _ = sizes.stored(level, op)
        assert total - meta == pytest.approx(elements)  # 8-bit values
        assert (meta == 0.0) == (sizes.stored(level, op)[2] == "dense")


@pytest.mark.parametrize("fmt", ["bitmask", "rle", "uop_cp"])
def test_skipping_pes_reading_a_level_compressed_input_read_it_once_compacted(fmt):
    """Inputs compressed at the GLB only (DRAM dense): the skipping PEs' reads of the GLB
    are what they read with that format everywhere (the stored nonzeros, not a density of
    them again); DRAM moves the dense input."""
    from mappings.dataflow import Dataflow
    from simulator.simulate import simulate_layer
    from simulator.tiling import glb_mapping
    from workloads.layers import Gemm
    from workloads.workload import LayerWorkload

    base = load_arch("edge")
    pe = dataclasses.replace(base.pe_array, activation_skipping=True)
    dense = dataclasses.replace(base, pe_array=pe)
    act = ActivationFormat(fmt)
    everywhere = dataclasses.replace(
        dense, memory=dataclasses.replace(dense.memory, activation_format=act)
    )
    glb = dataclasses.replace(dense.memory.glb, formats=((Operand.INPUTS, act),))
    levels = tuple(glb if lv.name == "glb" else lv for lv in dense.memory.levels)
    at_glb = dataclasses.replace(dense, memory=dataclasses.replace(dense.memory, levels=levels))
    lw = LayerWorkload(Gemm("g", 64, 32, 128), activation_density=0.25)
    mapping = glb_mapping(Dataflow.WS, (64, 32, 128), "nmk")
    runs = {
        name: simulate_layer(lw, arch, mapping).levels
        for name, arch in (("dense", dense), ("everywhere", everywhere), ("glb", at_glb))
    }
    for action in ("reads_bytes", "fills_bytes"):
        assert runs["glb"]["glb"]["accesses"]["inputs"][action] == pytest.approx(
            runs["everywhere"]["glb"]["accesses"]["inputs"][action]
        )
    assert runs["glb"]["dram"]["accesses"]["inputs"] == runs["dense"]["dram"]["accesses"]["inputs"]


@given(formats_st, st.floats(0.0, 1.0))
def test_compressed_final_outputs_move_in_the_levels_format(fmt, density):
    """`formats: {outputs: ...}` at DRAM: the final outputs written to DRAM are the
    output's nonzeros (the layer's `output_density`) plus the format's metadata;
    partial sums, the GLB and the registers are untouched; dense is the
    uncompressed size; the compulsory DRAM bytes count the stored outputs."""
    from mappings.dataflow import Dataflow
    from simulator.simulate import plan_layer, simulate_layer
    from simulator.tiling import glb_mapping
    from workloads.layers import Gemm
    from workloads.workload import LayerWorkload

    doc = _burst_of_a_byte()
    dense = parse_arch(doc, "e.yaml")
    doc["memory"]["dram"]["formats"] = {"outputs": fmt}
    arch = parse_arch(doc, "e.yaml")
    lw = LayerWorkload(Gemm("g", 64, 32, 128), output_density=density)
    mapping = glb_mapping(Dataflow.WS, (64, 32, 128), "nmk")
    base, got = (simulate_layer(lw, a, mapping) for a in (dense, arch))
    total, meta, name = plan_layer(lw, arch).sizes.stored("dram", Operand.OUTPUTS)
    assert name == fmt
    if fmt == "dense":
        assert (total, meta) == (64 * 32, 0.0)
    else:
        assert total - meta == pytest.approx(64 * 32 * density)  # 8-bit outputs
    out = got.levels["dram"]["accesses"]["outputs"]
    assert out["updates_bytes"] == pytest.approx(total)
    assert out["reads_bytes"] == base.levels["dram"]["accesses"]["outputs"]["reads_bytes"]
    for level in ("glb", "pe_registers"):
        # (their accesses: a shorter run leaks less)
        assert got.levels[level]["accesses"] == base.levels[level]["accesses"]
    extra = total - 64 * 32
    assert got.compulsory_dram_bytes == pytest.approx(base.compulsory_dram_bytes + extra, abs=1)


def test_output_density_is_validated_and_saved():
    from workloads.layers import Gemm
    from workloads.saved import workload_from_doc, workload_to_doc
    from workloads.workload import LayerWorkload, Workload

    with pytest.raises(ValueError, match="output_density"):
        LayerWorkload(Gemm("g", 4, 4, 4), output_density=1.5)
    wl = Workload("w", (LayerWorkload(Gemm("g", 4, 4, 4), output_density=0.3),))
    doc, arrays = workload_to_doc(wl, None)
    assert doc["layers"][0]["output_density"] == 0.3
    assert workload_from_doc(doc, arrays, "w.json").layers[0].output_density == 0.3


def test_a_dram_format_holds_on_a_multi_core_chip():
    """Cores under a shared DRAM (multicast fetches): DRAM's own format scales what the
    cores fetch from it, as on one core."""
    from mappings.dataflow import Dataflow
    from simulator.simulate import plan_layer, simulate_layer
    from simulator.tiling import glb_mapping
    from workloads.layers import Gemm
    from workloads.workload import LayerWorkload

    doc = _burst_of_a_byte()
    doc["cores"] = {"count": 4, "shared": ["dram"]}
    dense = parse_arch(doc, "e.yaml")
    doc["memory"]["dram"]["formats"] = {"weights": "uop_cp", "inputs": "rle"}
    packed = parse_arch(doc, "e.yaml")
    lw = LayerWorkload(Gemm("g", 256, 128, 256), density=0.3, activation_density=0.5)
    # one mapping for both (the default search may tile a compressed DRAM otherwise)
    tiled = glb_mapping(Dataflow.WS, (64, 32, 128), "nmk")
    base, got = (simulate_layer(lw, a, tiled).levels["dram"]["accesses"] for a in (dense, packed))
    sizes = plan_layer(lw, packed).sizes
    for op in (Operand.WEIGHTS, Operand.INPUTS):
        ratio = sizes.level_scale("dram", op)
        assert ratio != pytest.approx(1.0)
        assert got[op.value]["reads_bytes"] == pytest.approx(base[op.value]["reads_bytes"] * ratio)


def test_a_host_format_names_only_what_the_host_holds():
    doc = yaml.safe_load(preset_path("tpu-v1").read_text())
    held = doc["memory"]["host"]["holds"]
    other = next(op for op in ("weights", "inputs", "outputs") if op not in held)
    doc["memory"]["host"]["formats"] = {other: "rle"}
    with pytest.raises(SpecError, match=rf"memory\.host\.formats\.{other}"):
        parse_arch(doc, "t.yaml")
    doc["memory"]["host"]["formats"] = {held[0]: "rle"}
    assert parse_arch(doc, "t.yaml").memory.host.format_for(Operand(held[0])).value == "rle"


def test_a_compressed_dram_shortens_the_transfers_it_times():
    """The simpy steps move the operands in their off-chip home's format: sparse
    weights kept RLE in DRAM only (the GLB dense) stall a weight-bound layer less;
    compute is unchanged."""
    from workloads.layers import Gemm
    from workloads.workload import LayerWorkload

    lw = LayerWorkload(Gemm("g", 8, 1024, 1024), density=0.1)
    dense = _edge_with({}, {})
    packed = _edge_with({}, {"dram": {"weights": "rle"}})
    base, got = (_run_levels(a, lw, (8, 1024, 1024)) for a in (dense, packed))
    assert got[2].compute == base[2].compute
    assert got[2].memory_stall < base[2].memory_stall
    # a tenth of the values, each with a 20-bit run length (over the flattened 1M weights)
    assert got[0]["dram"]["weights"]["reads_bytes"] < base[0]["dram"]["weights"]["reads_bytes"] / 2
