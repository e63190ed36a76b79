"""Presets (globbed from the package folder), new spec fields' validation, and
SCALE-Sim `.cfg` files read as SCALE-Sim v3 reads them."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import yaml

from mappings.dataflow import Dataflow, FoldTiming, Operand
from simulator.arch import (
    WeightFormat,
    pe_local_need_bytes,
    preset_names,
    preset_path,
)
from simulator.load import load_arch
from simulator.spec_reader import SpecError
from workloads.sparsity import NM

PRESET_FILES = sorted(
    Path(str(p)).name
    for p in resources.files("simulator.presets").iterdir()
    if p.name.endswith(".yaml")
)
EXAMPLE_CFG = Path(__file__).resolve().parent / "data" / "scalesim" / "sa128_ws.cfg"


@pytest.mark.parametrize("filename", PRESET_FILES)
def test_every_preset_file_loads_names_itself_and_cites_a_source(filename):
    name = filename.removesuffix(".yaml")
    arch = load_arch(name)
    assert arch.name == name and name in preset_names()
    assert len(arch.source.split()) > 5, f"{filename}: cite the source of its numbers"
    assert arch.description.strip()
    assert arch.memory.path_to_array()[-1].name == "glb"


def test_required_presets_and_their_defining_numbers():
    assert {"edge", "tpu-v1", "a100-sparse", "sat", "vegeta", "eyeriss"} <= set(preset_names())
    tpu = load_arch("tpu-v1")
    pe = tpu.pe_array
    assert (pe.rows, pe.cols, pe.dataflow, pe.data_bits) == (256, 256, Dataflow.WS, 8)
    assert tpu.clock_mhz == 700 and pe.nm_patterns == ()
    assert tpu.glb.capacity_for(Operand.INPUTS) == 24 * 1024 * 1024
    assert tpu.dram.bandwidth_bytes_per_cycle * tpu.clock_mhz * 1e6 == pytest.approx(34e9, rel=0.01)
    assert load_arch("a100-sparse").pe_array.nm_patterns == (NM(2, 4),)
    assert load_arch("sat").pe_array.nm_patterns == (NM(2, 8),)
    vegeta = load_arch("vegeta").pe_array
    assert set(vegeta.nm_patterns) == {NM(1, 4), NM(2, 4)}  # 4:4 is its dense mode
    assert vegeta.window(NM(1, 4)) == 4 * vegeta.window(None)
    eyeriss = load_arch("eyeriss")
    assert eyeriss.pe_array.pes == 168 and eyeriss.glb.capacity_bytes == 108 * 1024
    assert eyeriss.memory.pe_local_bytes == 520
    edge = load_arch("edge").pe_array
    assert (edge.rows, edge.cols, edge.multipliers, edge.nm_patterns) == (16, 16, 2, (NM(2, 4),))


def _doc(name="edge"):
    return yaml.safe_load(preset_path(name).read_text())


def _set(doc, path, value):
    node = doc
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "field", "allowed"),
    [
        (("pe_array", "fold_timing"), "pipelined", "pe_array.fold_timing", "overlapped"),
        (("pe_array", "tile_skipping"), "yes", "pe_array.tile_skipping", "true/false"),
        (("pe_array", "nm_patterns"), "all", "pe_array.nm_patterns", "'any'"),
        (("memory", "weight_format"), "coo", "memory.weight_format", "bitmask, csr"),
        (("memory", "activation_format"), "rle2", "memory.activation_format", "bitmask"),
        (("memory", "dram", "burst_bytes"), 0, "memory.dram.burst_bytes", "positive"),
        (("memory", "glb", "banks"), -2, "memory.glb.banks", "positive"),
        (("memory", "glb", "partition"), "split", "memory.glb.partition", "shared"),
        (
            ("memory", "glb", "partition"),
            {"weights_kib": 200, "inputs_kib": 100, "outputs_kib": 10},
            "memory.glb.partition",
            "at most capacity_kib",
        ),
        (
            ("memory", "glb", "partition"),
            {"weights_kib": 20, "inputs_kib": 10},
            "memory.glb.partition.outputs_kib",
            "KiB",
        ),
        (("memory", "glb", "parent"), "l3", "memory.glb.parent", "a level: dram"),
        (("memory", "pe_local", "capacity_bytes"), 2, "memory.pe_local.capacity_bytes", ">= "),
        (("memory", "glb", "bandwith_bytes_per_cycle"), 8, "memory.glb.bandwith", "known keys"),
        (("memory", "glbb"), {"capacity_kib": 1}, "memory.glbb", "known keys"),
        (("scalesim_compat",), "maybe", "scalesim_compat", "true/false"),
    ],
)
def test_new_fields_are_validated_with_file_field_allowed(tmp_path, path, value, field, allowed):
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(_set(_doc(), path, value)))
    with pytest.raises(SpecError) as info:
        load_arch(f)
    msg = str(info.value)
    assert str(f) in msg and field in msg and allowed in msg


def test_pe_local_storage_must_hold_the_shadow_registers_when_overlapped(tmp_path):
    doc = _set(_doc(), ("pe_array", "fold_timing"), "overlapped")
    arch_ok = yaml.safe_dump(doc)
    (tmp_path / "ok.yaml").write_text(arch_ok)
    need = pe_local_need_bytes(load_arch(tmp_path / "ok.yaml").pe_array)
    serial = pe_local_need_bytes(load_arch("edge").pe_array)
    assert need > serial  # the shadow copy of the stationary weights
    _set(doc, ("memory", "pe_local", "capacity_bytes"), serial)
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(SpecError, match="shadow"):
        load_arch(tmp_path / "bad.yaml")


# ---- SCALE-Sim .cfg -------------------------------------------------------------------


def test_scalesim_cfg_maps_to_an_arch():
    arch = load_arch(EXAMPLE_CFG)
    pe = arch.pe_array
    assert arch.name == "sa128_ws" and arch.scalesim_compat
    assert (pe.rows, pe.cols, pe.multipliers, pe.dataflow) == (128, 128, 1, Dataflow.WS)
    assert pe.fold_timing is FoldTiming.SERIALIZED and not pe.nm_any and pe.nm_patterns == ()
    assert arch.glb.capacity_for(Operand.INPUTS) == 2048 * 1024
    assert arch.glb.capacity_for(Operand.OUTPUTS) == 1024 * 1024
    assert arch.glb.capacity_bytes == 5 * 1024 * 1024
    assert arch.dram.bandwidth_bytes_per_cycle == float("inf")  # CALC: no stalls


def _cfg(tmp_path, edits=(), drop=()):
    text = EXAMPLE_CFG.read_text()
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    lines = [ln for ln in text.splitlines() if not any(ln.startswith(d) for d in drop)]
    f = tmp_path / "arch.cfg"
    f.write_text("\n".join(lines) + "\n")
    return f


def test_scalesim_cfg_user_bandwidth_and_sparsity(tmp_path):
    f = _cfg(
        tmp_path,
        [
            ("InterfaceBandwidth : CALC", "InterfaceBandwidth : USER"),
            ("\nBandwidth : 10", "\nBandwidth : 20, 30"),
            ("SparsitySupport : false", "SparsitySupport : true"),
            ("SparseRep : ellpack_block", "SparseRep : csr"),
        ],
    )
    arch = load_arch(f)
    # ifmap 10 + filter 10 (bank bandwidths) + ofmap 20 (first Bandwidth value) words/cycle
    assert arch.dram.bandwidth_bytes_per_cycle == 40
    assert arch.pe_array.nm_any and arch.memory.weight_format is WeightFormat.CSR


@pytest.mark.parametrize(
    ("edits", "drop", "field", "allowed"),
    [
        ([], ["ArrayHeight"], "[architecture_presets] ArrayHeight", "required"),
        ([("Dataflow : ws", "Dataflow : rs")], [], "[architecture_presets] Dataflow", "os, ws"),
        ([("ArrayWidth : 128", "ArrayWidth : wide")], [], "ArrayWidth", "an integer"),
        ([("InterfaceBandwidth : CALC", "InterfaceBandwidth : AUTO")], [], "Interface", "USER"),
        ([("IfmapCustomLayout : False", "IfmapCustomLayout : perhaps")], [], "Custom", "True"),
        ([("BlockSize : 4", "BlockSize : 4\nBlockSie : 4")], [], "blocksie", "keys SCALE-Sim"),
        (
            [("[general]", "[network_presets]\nTopologyCsvLoc : x.csv\n\n[general]")],
            [],
            "[network_presets]",
            "--workload",
        ),
        (
            [
                ("SparsitySupport : false", "SparsitySupport : true"),
                ("OptimizedMapping : false", "OptimizedMapping : true"),
            ],
            [],
            "OptimizedMapping",
            "layer-wise",
        ),
    ],
)
def test_bad_scalesim_cfg_is_named(tmp_path, edits, drop, field, allowed):
    f = _cfg(tmp_path, edits, drop)
    with pytest.raises(SpecError) as info:
        load_arch(f)
    msg = str(info.value)
    assert str(f) in msg and field in msg and allowed in msg


def test_cfg_and_yaml_suffixes_only(tmp_path):
    f = tmp_path / "arch.txt"
    f.write_text("x")
    with pytest.raises(SpecError, match=r"SCALE-Sim \.cfg"):
        load_arch(f)
    with pytest.raises(SpecError, match=r"existing SCALE-Sim \.cfg"):
        load_arch(tmp_path / "missing.cfg")
