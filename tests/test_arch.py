"""Architecture specs: every shipped preset loads; bad specs name file, field, allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mappings.dataflow import Dataflow, Operand
from simulator.arch import parse_arch, preset_names, preset_path
from simulator.load import load_arch
from simulator.spec_reader import SpecError
from workloads.sparsity import NM


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_loads_and_cites_a_source(name):
    arch = load_arch(name)
    assert arch.name == name
    assert arch.source.strip(), f"preset {name} must cite its source"


def test_edge_preset():
    arch = load_arch("edge")
    pe = arch.pe_array
    assert (pe.rows, pe.cols, pe.multipliers, pe.dataflow) == (16, 16, 2, Dataflow.WS)
    assert pe.nm_patterns == (NM(2, 4),)
    assert pe.window(None) == 2 and pe.window(NM(2, 4)) == 4
    assert arch.glb.capacity_bytes == 256 * 1024


def _edge_doc():
    return yaml.safe_load(preset_path("edge").read_text())


@pytest.mark.parametrize(
    ("path", "value", "field", "allowed"),
    [
        (("pe_array", "rows"), 0, "pe_array.rows", "positive integer"),
        (("pe_array", "dataflow"), "ws2", "pe_array.dataflow", "ws, os, is"),
        (("pe_array", "nm_patterns"), ["2:x"], "pe_array.nm_patterns[0]", "N:M"),
        (("pe_array", "nm_patterns"), ["4:8"], "pe_array.nm_patterns[0]", "divides multipliers"),
        (("pe_array", "data_bits"), 7, "pe_array.data_bits", "4, 8 or 16"),
        (("pe_array", "mac_type"), "fp8", "pe_array.mac_type", "int, fp16, bf16"),
        (("memory", "weight_format"), "zip", "memory.weight_format", "auto"),
        (("memory", "glb", "capacity_kib"), -1, "memory.glb.capacity_kib", "> 0"),
        (
            ("memory", "dram", "bandwidth_bytes_per_cycle"),
            "fast",
            "memory.dram.bandwidth",
            "number",
        ),
        (("pe_array", "colums"), 16, "pe_array.colums", "known keys here"),
        (("pe_array", "gating_saves"), ["psums"], "pe_array.gating_saves[0]", "weights, inputs"),
        (("pe_array", "gating_saves"), "weights", "pe_array.gating_saves", "a list"),
        (("pe_array", "gating_saves"), ["weights"] * 2, "pe_array.gating_saves", "distinct"),
    ],
)
def test_bad_fields_are_named(tmp_path, path, value, field, allowed):
    doc = _edge_doc()
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(doc))
    with pytest.raises(SpecError) as info:
        load_arch(f)
    msg = str(info.value)
    assert str(f) in msg and field in msg and allowed in msg


def test_missing_section_and_non_mapping(tmp_path):
    with pytest.raises(SpecError, match="pe_array"):
        parse_arch({"name": "x", "memory": {}}, "x.yaml")
    with pytest.raises(SpecError, match="a mapping"):
        parse_arch([1, 2], "x.yaml")


def test_unknown_preset_and_bad_yaml(tmp_path):
    with pytest.raises(SpecError, match="a preset"):
        load_arch("no-such-arch")
    bad = tmp_path / "broken.yaml"
    bad.write_text("pe_array: [unclosed\n")
    with pytest.raises(SpecError, match="valid YAML"):
        load_arch(bad)
    with pytest.raises(SpecError, match="existing"):
        load_arch(Path(tmp_path / "missing.yaml"))


def test_host_link_needs_the_operands_it_holds():
    doc = yaml.safe_load(preset_path("edge").read_text())
    doc["memory"]["host"] = {"bandwidth_bytes_per_cycle": 4}
    with pytest.raises(SpecError, match=r"memory\.host\.holds"):
        parse_arch(doc, "host.yaml")
    doc["memory"]["host"]["holds"] = ["activations"]
    with pytest.raises(SpecError, match=r"memory\.host\.holds\[0\]"):
        parse_arch(doc, "host.yaml")
    doc["memory"]["host"]["holds"] = ["inputs"]
    mem = parse_arch(doc, "host.yaml").memory
    assert mem.source_for(Operand.INPUTS).name == "host"
    assert mem.source_for(Operand.WEIGHTS).name == "dram"
    assert [lv.name for lv in mem.path_for(Operand.INPUTS)] == ["host", "glb"]


def test_gating_saves_defaults_to_both_reads_and_takes_any_subset():
    """Sparseloop's gating SAFs are per data space: by default a gated zero saves its
    MAC's weight read and partial-sum read-modify-write; Eyeriss v1 saves the first only."""
    doc = _edge_doc()
    assert parse_arch(doc, "e.yaml").pe_array.gating_saves == (Operand.WEIGHTS, Operand.OUTPUTS)
    for saves, want in (
        (["outputs", "weights"], (Operand.WEIGHTS, Operand.OUTPUTS)),
        (["Weights"], (Operand.WEIGHTS,)),
        ([], ()),
        (["outputs", "inputs", "weights"], (Operand.WEIGHTS, Operand.INPUTS, Operand.OUTPUTS)),
    ):
        doc["pe_array"]["gating_saves"] = saves
        assert parse_arch(doc, "e.yaml").pe_array.gating_saves == want
