"""Energy per level and action: tables read at load, ERTs as they are, SRAM fit, MAC types."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from simulator.arch import preset_path
from simulator.energy import action_costs, banked_sram_pj
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
    doc["memory"]["glb"].pop("energy", None)  # the preset's cited GLB figure would win
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
    # Timeloop prices an action at its most expensive row: the summary's max_energy
    assert (glb.read_pj, glb.write_pj, glb.source) == (30.0, 22.3, "ert")
    from mappings.dataflow import Operand

    assert costs.register(Operand.INPUTS).read_pj == pytest.approx(0.14561)
    res = simulate_layer(LayerWorkload(Gemm("g", 32, 32, 64)), arch)
    assert res.levels["glb"]["energy_source"] == "ert"


def test_a_full_ert_takes_an_actions_most_expensive_argument_row(tmp_path):
    """As Timeloop v3's Topology::ParseAccelergyERT: max over the argument rows."""
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
    # stated in energy_tables/default.yaml: 46% at most (the 192-word weights_spad), the
    # other five points within 25%
    assert fit.max_error < 0.46 + 1e-3
    errors = sorted(abs(fit.access_pj(c * 1024, w) - pj) / pj for c, w, pj in fit.points)
    assert errors[-2] < 0.25
    for kib, bits, pj in fit.points:
        assert fit.access_pj(kib * 1024, bits) == pytest.approx(pj, rel=fit.max_error + 1e-9)
    assert fit_sram([(1, 8, 1.0), (4, 8, 2.0)]).beta == pytest.approx(0.5)
    assert fit_sram([(1, 8, 1.0), (4, 8, 2.0)]).max_error == pytest.approx(0.0, abs=1e-12)


def test_a_table_whose_sram_fit_falls_with_capacity_is_rejected(tmp_path):
    doc = load_yaml(Path(default_table().file))
    doc["sram_points"] = [
        {"capacity_kib": 1, "word_bits": 64, "pj": 10, "source": "x"},
        {"capacity_kib": 64, "word_bits": 64, "pj": 5, "source": "y"},
    ]
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(doc))
    from simulator.energy_table import load_energy_table

    with pytest.raises(SpecError, match="sram_points"):
        load_energy_table(str(path))


CAPACITY = st.floats(min_value=8, max_value=64 << 20, allow_nan=False)
WIDTH = st.integers(min_value=1, max_value=4096)


GROWTH = st.floats(min_value=1.000001, max_value=1e6, allow_nan=False)  # apart beyond rounding


@given(CAPACITY, GROWTH, WIDTH, st.integers(min_value=1, max_value=4096))
def test_sram_energy_grows_with_capacity_and_width(c1, grow, w1, dw):
    fit = default_table().sram
    c2, w2 = c1 * grow, w1 + dw
    assert fit.access_pj(c1, w1) < fit.access_pj(c2, w1)
    assert fit.access_pj(c1, w1) < fit.access_pj(c1, w2)


@given(CAPACITY, GROWTH, WIDTH, st.integers(min_value=1, max_value=64))
def test_a_banked_sram_costs_more_as_it_grows_and_more_than_its_bank(c1, grow, w, banks):
    """Bank + H-tree: increasing in capacity at a fixed bank count, never below the
    bank alone, and the H-tree term grows with the macro (not with the bank)."""
    table = default_table()
    c2 = c1 * grow
    assert banked_sram_pj(table, c1, banks, w) < banked_sram_pj(table, c2, banks, w)
    bank = table.sram.access_pj(c1 / banks, w)
    assert banked_sram_pj(table, c1, banks, w) >= bank
    if banks > 1:
        # the same banks spread over `banks` macros: no H-tree across the whole
        assert banked_sram_pj(table, c1, banks, w, macros=banks) == pytest.approx(bank)


def test_the_banked_model_lands_near_cacti_on_accelergys_eyeriss_buffer():
    """Accelergy 0.4's CACTI plug-in (timeloop-accelergy-exercises, eyeriss_like at
    65 nm): shared_glb 16384 x 64 b in 32 banks, 18.18 pJ per 64-bit read."""
    table = default_table()
    pj = banked_sram_pj(table, 16384 * 8, 32, 64) * 65 / table.technology_nm
    assert pj == pytest.approx(18.18, rel=0.2)


def test_pe_registers_are_priced_as_a_register_file_of_their_capacity(tmp_path):
    from mappings.dataflow import Operand

    table = default_table()
    small, big = [], []
    for size, out in ((64, small), (2048, big)):
        doc = load_yaml(preset_path("eyeriss"))
        doc["memory"]["pe_local"]["capacity_bytes"] = size
        path = tmp_path / f"e{size}.yaml"
        path.write_text(yaml.safe_dump(doc))
        out.append(action_costs(load_arch(path)).register(Operand.WEIGHTS))
    assert small[0].read_pj < big[0].read_pj
    eyeriss = action_costs(load_arch("eyeriss")).register(Operand.WEIGHTS)
    assert eyeriss.source == "fit"
    scale = 65 / 45 * (1.0 / 0.9) ** 2  # the preset's node and supply over the table's
    assert eyeriss.read_pj == pytest.approx(table.sram.access_pj(520, 16) * scale)


def test_supply_voltage_scales_on_chip_energy_as_v_squared(tmp_path):
    doc = load_yaml(preset_path("edge"))
    doc["energy"] = {"supply_v": 1.8}  # twice the table's 0.9 V
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(doc))
    hi, base = action_costs(load_arch(path)), action_costs(load_arch("edge"))
    assert hi.mac_pj == pytest.approx(4 * base.mac_pj)
    assert hi.level("glb").read_pj == pytest.approx(4 * base.level("glb").read_pj)
    assert hi.level("dram").read_pj == base.level("dram").read_pj
    doc["energy"] = {"supply_v": 0}
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(SpecError, match="supply_v"):
        load_arch(path)


def test_dram_energy_is_not_rescaled_by_the_accelerators_node(tmp_path):
    doc = load_yaml(preset_path("edge"))
    doc["energy"] = {"technology_nm": 7}
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(doc))
    scaled, base = action_costs(load_arch(path)), action_costs(load_arch("edge"))
    assert scaled.level("dram").read_pj == base.level("dram").read_pj
    assert scaled.level("glb").read_pj == pytest.approx(base.level("glb").read_pj * 7 / 45)


def test_macros_split_the_h_tree_and_must_not_exceed_the_banks(tmp_path):
    # a100-sparse's register file: one macro per SM sub-partition
    doc = load_yaml(preset_path("a100-sparse"))
    assert doc["memory"]["rf"]["macros"] > 1
    one = action_costs(load_arch("a100-sparse")).level("rf").read_pj
    doc["memory"]["rf"]["macros"] = 1
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert action_costs(load_arch(path)).level("rf").read_pj > one
    doc["memory"]["rf"]["macros"] = doc["memory"]["rf"]["banks"] + 1
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(SpecError, match="macros"):
        load_arch(path)


TIMELOOP_RES2A = (
    Path(__file__).parent
    / "data/timeloop_shared/dense_eyeriss_resnet50_res2a_branch2b/outputs/default_search"
)


def test_a_timeloop_ert_prices_every_component_as_timeloop_does(tmp_path):
    """The Timeloop v3 res2a run's own ERT given as the table: every sparsim component
    that has a Timeloop counterpart is matched, and each action costs what Timeloop's
    stats charge per scalar access (vector energy / block size, reads at read, fills
    and updates at write)."""
    from mappings.dataflow import Operand
    from simulator.energy import energy_sources

    ert = TIMELOOP_RES2A / "timeloop-mapper.ERT_summary.yaml"
    doc = load_yaml(preset_path("eyeriss"))
    doc["energy"] = {"table": str(ert)}
    doc["pe_array"]["acc_bits"] = 16  # Timeloop's psum_spad words
    doc["memory"]["glb"].pop("energy")
    doc["memory"]["glb"].update(ert_component="shared_glb", word_bits=64)  # block 4 x 16 b
    doc["memory"]["dram"]["word_bits"] = 64
    path = tmp_path / "arch.yaml"
    path.write_text(yaml.safe_dump(doc))
    arch = load_arch(path)
    costs = action_costs(arch)
    stats = (TIMELOOP_RES2A / "timeloop-mapper.stats.txt").read_text()
    assert "Compute energy        : 2.20 pJ" in stats
    assert costs.mac_pj == pytest.approx(2.20035)
    assert costs.mac_gated_pj == pytest.approx(0.10285)
    # per 16-bit scalar, as the stats print them
    glb, dram = costs.level("glb"), costs.level("dram")
    assert glb.per_byte("read") * 2 == pytest.approx(74.1442 / 4)
    assert glb.per_byte("fill") * 2 == pytest.approx(75.2148 / 4)
    assert glb.per_byte("update") * 2 == pytest.approx(75.2148 / 4)
    # Inputs at the GLB: 1,247,232 reads + 267,264 fills, 18.58 pJ per scalar access
    mixed = (1247232 * glb.per_byte("read") + 267264 * glb.per_byte("fill")) * 2 / 1514496
    assert mixed == pytest.approx(18.58, abs=0.005)
    assert dram.per_byte("read") * 2 == pytest.approx(128.0)
    spads = {Operand.OUTPUTS: 0.25083, Operand.WEIGHTS: 1.58552, Operand.INPUTS: 0.23632}
    for op, pj in spads.items():
        assert costs.register(op).per_byte("read") * 2 == pytest.approx(pj)
        assert costs.register(op).per_byte("update") * 2 == pytest.approx(pj)
    # no idle energy: Timeloop charges none (the ERT has `idle`, not `leak`), for levels,
    # MACs and scratchpads alike
    assert glb.leakage_pj_per_cycle == 0 and costs.leakage_pe_cycle_pj == 0
    sources = energy_sources(arch)
    comps = sources["components"]
    assert comps["mac"] == "ert:system.eyeriss.PE[0..167].mac"
    assert comps["glb"] == "ert:system.eyeriss.shared_glb"
    assert comps["dram"] == "ert:system.DRAM"
    spad_of = {"weights": "weights_spad", "inputs": "ifmap_spad", "outputs": "psum_spad"}
    for op, spad in spad_of.items():
        assert comps[f"pe_registers.{op}"] == f"ert:system.eyeriss.PE[0..167].{spad}"
    # what the ERT does not price is said, not silent
    assert comps["network"] == "table"
    assert sources["unused_ert_components"] == ["system.eyeriss.DummyBuffer[0..13]"]


def test_an_ert_compute_component_is_found_by_its_actions(tmp_path):
    (tmp_path / "ert.yaml").write_text(
        "ERT:\n  version: 0.3\n  tables:\n"
        "  - name: system.PE.MACC\n    actions:\n"
        "    - {name: compute, arguments: null, energy: 0.56}\n"
        "    - {name: leak, arguments: null, energy: 0.01}\n"
    )
    arch = load_arch(_arch_with(tmp_path, "ert.yaml"))
    costs = action_costs(arch)
    # Timeloop's arithmetic names: `compute` prices both the MAC and a gated one; the
    # MAC's `leak` is the PE's leakage per cycle (no scratchpad in this ERT leaks)
    assert (costs.mac_pj, costs.mac_gated_pj, costs.leakage_pe_cycle_pj) == (0.56, 0.56, 0.01)


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


def test_sparsims_own_ert_prices_give_the_shares_timeloops_per_access_energies_give():
    """On every Timeloop case that ships its ERT, sparsim's own energy (the ERT as its
    table) splits by level as its counts priced at the stats' per-scalar energies do:
    what differs from Timeloop's shares is the counts (the nest), not the prices."""
    from sparsim.validate import run_timeloop, timeloop_root

    own_tag = " (sparsim's own, priced from the ERT)"
    pairs = 0
    for outcome in run_timeloop(timeloop_root()):
        by_name = {c.quantity: c for c in outcome.comparisons}
        for name, own in by_name.items():
            if not name.endswith(own_tag):
                continue
            priced = by_name[name.removesuffix(own_tag)]
            assert own.sparsim == pytest.approx(priced.sparsim, abs=0.5), (outcome.case, name)
            pairs += 1
    assert pairs >= 5  # mac, DRAM, shared_glb, the spads, DummyBuffer on res2a


ERT_V04_SUMMARY = """\
ERT_summary:
  version: '0.4'
  table_summary:
  - name: system_top_level.shared_glb[1..1]
    actions:
    - {name: write, energy: 14.137929}
    - {name: read, energy: 18.183829}
    - {name: leak, energy: 0.005652}
    - {name: update, energy: 14.137929}
  - name: system_top_level.ifmap_spad[1..168]
    actions:
    - {name: read, energy: 0.202442}
    - {name: leak, energy: 0.000101}
  - name: system_top_level.mac[1..168]
    actions:
    - {name: compute, energy: 0.207692}
    - {name: leak, energy: 0.002374}
"""


def test_an_accelergy_04_ert_with_instance_suffixes_and_leak(tmp_path):
    """timeloop-accelergy-exercises' v0.4 eyeriss_like ERT: `[1..1]` suffixes match by
    name, `update` prices updates, `leak` is charged per instance-cycle."""
    from mappings.dataflow import Operand

    (tmp_path / "ert.yaml").write_text(ERT_V04_SUMMARY)
    arch = load_arch(_arch_with(tmp_path, "ert.yaml", ert_component="shared_glb"))
    costs = action_costs(arch)
    glb = costs.level("glb")
    assert (glb.read_pj, glb.write_pj, glb.update_pj) == (18.183829, 14.137929, 14.137929)
    assert glb.leakage_pj_per_cycle == 0.005652
    assert costs.mac_pj == costs.mac_gated_pj == 0.207692
    # an ifmap spad without a write action: fills at its costliest action (Timeloop)
    spad = costs.register(Operand.INPUTS)
    assert spad.read_pj == spad.write_pj == 0.202442
    assert costs.leakage_pe_cycle_pj == pytest.approx(0.002374 + 0.000101)


def test_the_eyeriss_anchor_reports_what_the_derivation_gives_beside_the_cited_pins():
    """RF and DRAM come from the derivation; the GLB and the hop are Chen et al.'s
    figures in the preset, and the note says what the table alone gives for them."""
    from simulator.energy import table_priced
    from sparsim.validate.anchors import energy_per_access_ratios

    arch = load_arch("eyeriss")
    ratios, note = energy_per_access_ratios(arch, 16)
    derived, _ = energy_per_access_ratios(table_priced(arch), 16)
    assert ratios["rf"] == derived["rf"] and ratios["dram"] == derived["dram"]
    assert ratios["glb"] == pytest.approx(6, rel=0.01)
    assert ratios["array"] == pytest.approx(2, rel=0.01)
    assert 3 < derived["glb"] < 5 and derived["array"] < 0.5
    assert "without the spec's figures" in note
    # the same ratios at another width come from the model, not the case: per bit
    half, _ = energy_per_access_ratios(arch, 8)
    assert all(half[k] == pytest.approx(ratios[k] / 2) for k in ratios)
