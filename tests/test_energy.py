"""Energy per level and action: tables read at load, ERTs as they are, SRAM fit, MAC types."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from simulator.arch import preset_path
from simulator.energy import action_costs
from simulator.energy_table import default_table, fit_sram
from simulator.load import load_arch
from simulator.simulate import simulate_layer
from simulator.spec_reader import SpecError, load_yaml
from workloads.layers import Gemm
from workloads.workload import LayerWorkload

ERT_SUMMARY = """\
ERT_summary:
  version: 0.3
  table_summary:
  - name: system.eyeriss.PE[0..167].mac
    actions:
    - {name: mac_random, energy: 2.20035}
    - {name: mac_gated, energy: 0.10285}
  - name: system.DRAM
    actions:
    - {name: read, energy: 512}
    - {name: write, energy: 512}
  - name: system.eyeriss.shared_glb
    actions:
    - {name: read, average_energy: 21.1, max_energy: 30.0, min_energy: 1.0}
    - {name: write, average_energy: 22.3}
  - name: system.eyeriss.PE[0..167].ifmap_spad
    actions:
    - {name: read, average_energy: 0.14561}
    - {name: write, average_energy: 0.14561}
"""

ERT_FULL = """\
ERT:
  version: 0.3
  tables:
  - name: system.DRAM
    actions:
    - {name: read, arguments: null, energy: 249.6}
    - {name: write, arguments: null, energy: 249.6}
  - name: system.glb
    actions:
    - {name: read, arguments: {address_delta: 0}, energy: 10.0}
    - {name: read, arguments: {address_delta: 1}, energy: 20.0}
"""


def _arch_with(tmp_path: Path, table: str, **glb) -> Path:
    doc = load_yaml(preset_path("eyeriss"))
    doc["energy"] = {"table": table}
    doc["memory"]["glb"].update(glb)
    path = tmp_path / "arch.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_an_accelergy_ert_summary_prices_the_matching_components(tmp_path):
    (tmp_path / "ert.yaml").write_text(ERT_SUMMARY)
    arch = load_arch(_arch_with(tmp_path, "ert.yaml", ert_component="shared_glb", word_bits=16))
    costs = action_costs(arch)
    assert costs.mac_pj == pytest.approx(2.20035)
    assert costs.mac_gated_pj == pytest.approx(0.10285)
    assert costs.level("dram").read_pj == 512
    glb = costs.level("glb")
    assert (glb.read_pj, glb.write_pj, glb.source) == (21.1, 22.3, "ert")
    from mappings.dataflow import Operand

    assert costs.register(Operand.INPUTS).read_pj == pytest.approx(0.14561)
    res = simulate_layer(LayerWorkload(Gemm("g", 32, 32, 64)), arch)
    assert res.levels["glb"]["energy_source"] == "ert"


def test_a_full_ert_prices_a_read_as_its_random_access_row(tmp_path):
    """Timeloop prices a plain read or write as the random access (every argument
    set: address_delta and data_delta 1), not an average of the argument rows;
    an action without argument rows is its one energy."""
    (tmp_path / "ert.yaml").write_text(ERT_FULL)
    arch = load_arch(_arch_with(tmp_path, "ert.yaml"))
    assert action_costs(arch).level("glb").read_pj == pytest.approx(20.0)
    assert action_costs(arch).level("dram").write_pj == pytest.approx(249.6)


def test_a_bad_energy_table_is_blamed_on_the_arch_file_and_field(tmp_path):
    path = _arch_with(tmp_path, "no-such-table.yaml")
    with pytest.raises(SpecError) as err:
        load_arch(path)
    assert str(path) in str(err.value) and "energy.table" in str(err.value)
    (tmp_path / "ert.yaml").write_text(ERT_SUMMARY)
    bad = _arch_with(tmp_path, "ert.yaml", ert_component="nope")
    with pytest.raises(SpecError, match="ert_component"):
        load_arch(bad)


def test_sram_fit_matches_its_source_points_within_the_stated_error():
    fit = default_table().sram
    assert fit.max_error < 0.05  # 2.2% on Horowitz's three points
    for kib, bits, pj in fit.points:
        assert fit.access_pj(kib * 1024, bits) == pytest.approx(pj, rel=fit.max_error + 1e-9)
    # energy grows with capacity and width
    assert fit.access_pj(1 << 20, 64) > fit.access_pj(1 << 15, 64) > fit.access_pj(1 << 15, 32)
    assert fit_sram([(1, 8, 1.0), (4, 8, 2.0)]).beta == pytest.approx(0.5)


def test_mac_energy_follows_the_data_type_and_the_widest_operand():
    edge = load_arch("edge")
    mac = {}
    for label, kw in {
        "int4": dict(data_bits=4),
        "w4a8": dict(weight_bits=4),
        "int8": {},
        "int16": dict(data_bits=16),
        "fp16": dict(data_bits=16, mac_type="fp16"),
        "bf16": dict(data_bits=16, mac_type="bf16"),
    }.items():
        arch = dataclasses.replace(edge, pe_array=dataclasses.replace(edge.pe_array, **kw))
        mac[label] = action_costs(arch).mac_pj
    assert mac["int4"] < mac["int8"] == mac["w4a8"] < mac["int16"] < mac["bf16"] < mac["fp16"]
    # 4-bit weights move half the weight bytes of 8-bit ones
    w4 = dataclasses.replace(edge, pe_array=dataclasses.replace(edge.pe_array, weight_bits=4))
    lw = LayerWorkload(Gemm("g", 64, 64, 256))
    a, b = simulate_layer(lw, w4), simulate_layer(lw, edge)
    wa = a.levels["dram"]["accesses"]["weights"]["reads_bytes"]
    wb = b.levels["dram"]["accesses"]["weights"]["reads_bytes"]
    assert wa == pytest.approx(wb / 2, rel=0.05)


def test_technology_node_scales_table_values(tmp_path):
    doc = load_yaml(preset_path("edge"))
    doc["energy"] = {"technology_nm": 22.5}
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(doc))
    half, full = action_costs(load_arch(path)), action_costs(load_arch("edge"))
    assert half.mac_pj == pytest.approx(full.mac_pj / 2)
    assert half.level("glb").read_pj == pytest.approx(full.level("glb").read_pj / 2)


def test_a_layers_own_widths_set_its_bytes_and_mac_energy():
    """GQSA-style W4 with 8-bit activations, and W4A4, per layer on an int8 arch."""
    edge = load_arch("edge")
    layer = Gemm("g", 64, 64, 256)
    base = simulate_layer(LayerWorkload(layer), edge)
    w4 = simulate_layer(LayerWorkload(layer, weight_bits=4), edge)
    w4a4 = simulate_layer(LayerWorkload(layer, weight_bits=4, input_bits=4), edge)

    def dram(res, op):
        return res.levels["dram"]["accesses"][op]["reads_bytes"]

    assert dram(w4, "weights") == pytest.approx(dram(base, "weights") / 2, rel=0.05)
    assert dram(w4, "inputs") == dram(base, "inputs")
    assert w4.energy_pj["mac"] == pytest.approx(base.energy_pj["mac"])  # int8 MAC (A8)
    assert w4a4.energy_pj["mac"] < base.energy_pj["mac"]  # int4 MAC
    with pytest.raises(ValueError, match="weight_bits"):
        LayerWorkload(layer, weight_bits=3)
