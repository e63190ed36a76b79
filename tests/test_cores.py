"""Multi-core archs (`cores: {count, shared}`, simulator/cores.py): one core is
today's model, an even split runs 1/N of the compute, an uneven one rounds up to
whole waves, utilization stays <= 1 and DRAM moves at least the compulsory bytes;
a bad `cores` section is a clean exit 2."""

from __future__ import annotations

import copy
import dataclasses
import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mappings.dataflow import FoldTiming
from simulator.arch import parse_arch, preset_names, preset_path
from simulator.cores import multicast_bytes, split, unshared_bytes
from simulator.simulate import plan_layer, simulate, simulate_layer
from simulator.spec_reader import SpecError, load_yaml
from simulator.tile_model import fold_streams, tail_cycles
from simulator.tiling import glb_mapping
from sparsim.api import load_workload
from sparsim.cli import main
from workloads.layers import Gemm
from workloads.workload import LayerWorkload

# modest in CI; the "thorough" profile runs its own count (>= 2,000) each
EXAMPLES = 25 if settings.default.max_examples <= 100 else settings.default.max_examples
SETTINGS = settings(max_examples=EXAMPLES, deadline=None)


def _doc(preset: str) -> dict:
    return copy.deepcopy(load_yaml(preset_path(preset)))


def _multi_edge(cores: int, timing: str = "serialized") -> object:
    """edge with an L2 above its GLB and `cores` copies of its array and GLB."""
    doc = _doc("edge")
    doc["pe_array"]["fold_timing"] = timing
    doc["memory"]["l2"] = {
        "kind": "sram",
        "parent": "dram",
        "capacity_kib": 2048,
        "bandwidth_bytes_per_cycle": 64,
    }
    doc["memory"]["glb"]["parent"] = "l2"
    doc["cores"] = {"count": cores, "shared": ["dram", "l2"]}
    return parse_arch(doc, "<test>")


SINGLE = [p for p in preset_names() if p != "a100-sparse"]


@SETTINGS
@given(
    preset=st.sampled_from(SINGLE),
    m=st.integers(1, 300),
    n=st.integers(1, 300),
    k=st.integers(1, 300),
)
def test_one_core_spec_is_todays_model(preset, m, n, k):
    doc = _doc(preset)
    assume("cores" not in doc)
    plain = parse_arch(doc, "<test>")
    doc["cores"] = {"count": 1}
    one = parse_arch(doc, "<test>")
    assert one.cores == 1
    wl = load_workload(f"gemm:{m}x{n}x{k}", "dense")
    assert simulate(wl, one).to_dict() == simulate(wl, plain).to_dict()


def _layer(m: int, n: int, k: int) -> LayerWorkload:
    return LayerWorkload(Gemm("g", m, n, k))


@SETTINGS
@given(
    cores=st.sampled_from([2, 3, 4, 8]),
    tm=st.sampled_from([8, 16, 32]),
    tn=st.sampled_from([16, 32]),
    tk=st.sampled_from([32, 64]),
    bm=st.integers(1, 8),
    bn=st.integers(1, 8),
    k=st.integers(1, 200),
    timing=st.sampled_from(["serialized", "overlapped"]),
)
def test_an_even_split_runs_one_nth_of_the_compute(cores, tm, tn, tk, bm, bn, k, timing):
    assume((bm * bn) % cores == 0)
    multi = _multi_edge(cores, timing)
    single = dataclasses.replace(multi, cores=1)
    lw = _layer(bm * tm, bn * tn, k)
    mapping = glb_mapping(multi.pe_array.dataflow, (tm, tn, tk), "nmk")
    r1 = simulate_layer(lw, single, mapping)
    rn = simulate_layer(lw, multi, mapping)
    # each core drains its own last fold: the tail is per core when folds overlap
    tail = 0
    if multi.pe_array.fold_timing is FoldTiming.OVERLAPPED:
        folds = fold_streams(
            plan_layer(lw, single).gemm, 1, (tm, tn, tk), single.pe_array, mapping.dataflow,
            None, None, 1.0,
        )  # fmt: skip
        tail = tail_cycles(single.pe_array, mapping.dataflow, folds.last_stream_len)
    assert rn.cycles.compute - tail == (r1.cycles.compute - tail) // cores
    assert (r1.cycles.compute - tail) % cores == 0
    assert rn.macs == r1.macs and rn.useful_macs == r1.useful_macs
    assert rn.folds == r1.folds  # every core's folds are counted


@SETTINGS
@given(
    cores=st.sampled_from([2, 3, 5, 7]),
    tm=st.sampled_from([8, 16]),
    tn=st.sampled_from([16, 32]),
    bm=st.integers(1, 9),
    bn=st.integers(1, 9),
    k=st.integers(1, 100),
)
def test_tiles_that_do_not_divide_run_in_whole_waves(cores, tm, tn, bm, bn, k):
    tiles = bm * bn
    assume(tiles % cores != 0)
    multi = _multi_edge(cores)  # serialized folds: a tile's compute is its own
    single = dataclasses.replace(multi, cores=1)
    lw = _layer(bm * tm, bn * tn, k)
    mapping = glb_mapping(multi.pe_array.dataflow, (tm, tn, k), "nmk")
    r1 = simulate_layer(lw, single, mapping)
    rn = simulate_layer(lw, multi, mapping)
    per_tile = r1.cycles.compute // tiles
    assert per_tile * tiles == r1.cycles.compute
    assert rn.cycles.compute == math.ceil(tiles / cores) * per_tile
    assert rn.cycles.compute > r1.cycles.compute / cores  # quantization shows


@SETTINGS
@given(
    cores=st.sampled_from([2, 4, 16]),
    m=st.integers(1, 400),
    n=st.integers(1, 400),
    k=st.integers(1, 400),
    sparsity=st.sampled_from(["dense", "nm:2:4"]),
)
def test_utilization_at_most_one_and_dram_at_least_compulsory(cores, m, n, k, sparsity):
    arch = _multi_edge(cores)
    result = simulate(load_workload(f"gemm:{m}x{n}x{k}", sparsity), arch)
    _check_totals(result, arch, cores)


@SETTINGS
@given(
    cores=st.sampled_from([3, 8, 32]),
    hw=st.integers(3, 24),
    c=st.integers(1, 24),
    r=st.sampled_from([1, 3]),
    kout=st.integers(1, 48),
    stride=st.sampled_from([1, 2]),
)
def test_convs_on_cores_keep_utilization_and_compulsory_bytes(cores, hw, c, r, kout, stride):
    assume(hw >= r)
    arch = _multi_edge(cores, "overlapped")
    wl = load_workload(f"conv:{hw}x{hw}x{c}:{r}x{r}x{kout}:{stride}", "dense")
    _check_totals(simulate(wl, arch), arch, cores)


def _check_totals(result, arch, cores: int) -> None:
    for lr in result.layers:
        assert 0 < lr.utilization <= 1.0
        assert lr.dram_bytes >= lr.compulsory_dram_bytes
        assert lr.multiplier_slots == arch.pe_array.pes * 2 * cores * lr.cycles.total


@SETTINGS
@given(
    cores=st.integers(1, 40),
    m_blocks=st.integers(1, 12),
    n_blocks=st.integers(1, 12),
    groups=st.integers(1, 3),
)
def test_multicast_fetches_each_block_at_least_once_and_at_most_per_tile(
    cores, m_blocks, n_blocks, groups
):
    arch = dataclasses.replace(_multi_edge(2), cores=cores)
    lw = LayerWorkload(Gemm("g", m_blocks * 8 - 3, n_blocks * 16 - 5, 40))
    plan = plan_layer(lw, arch)
    sp = split(arch, plan.gemm, groups, 8, 16)
    shared, alone = multicast_bytes(sp, plan.gemm, plan.sizes), unshared_bytes(sp, plan.sizes)
    for op, b in shared.items():
        once = groups * (plan.sizes.inputs if op.value == "inputs" else plan.sizes.weights)
        assert once - 1e-6 <= b <= alone[op] + 1e-6


def test_a100_is_108_sms_with_their_own_buffers():
    arch = parse_arch(load_yaml(preset_path("a100-sparse")), "a100")
    assert arch.cores == 108 and arch.shared_levels == ("dram", "l2")
    pe = arch.pe_array
    assert pe.pes * pe.multipliers == 1024  # whitepaper: per SM per cycle
    assert arch.memory.level("glb").capacity_bytes == 192 * 1024
    assert arch.memory.level("rf").capacity_bytes == 256 * 1024


BAD = [
    ({"count": 0}, "cores.count"),
    ({"count": "many"}, "cores.count"),
    ({"count": 4, "shared": ["glb"]}, "cores.shared"),
    ({"count": 4, "shared": []}, "cores.shared"),
    ({"count": 4, "shared": ["l2"]}, "cores.shared"),
    ({"count": 4, "shared": ["dram", "glb"]}, "cores.shared"),
    ({"count": 4, "cluster": 2}, "cores.cluster"),
]


@pytest.mark.parametrize(("cores", "field"), BAD)
def test_a_bad_cores_section_names_the_field(cores, field):
    doc = _doc("edge")
    doc["memory"]["l2"] = {"kind": "sram", "parent": "dram", "capacity_kib": 64}
    doc["memory"]["l2"]["bandwidth_bytes_per_cycle"] = 32
    doc["memory"]["glb"]["parent"] = "l2"
    doc["cores"] = cores
    with pytest.raises(SpecError) as info:
        parse_arch(doc, "bad.yaml")
    assert field in str(info.value) and "bad.yaml" in str(info.value)


def test_a_bad_cores_section_exits_2(tmp_path, capsys):
    import yaml

    doc = _doc("edge")
    doc["cores"] = {"count": 4, "shared": ["glb"]}
    path = tmp_path / "multi.yaml"
    path.write_text(yaml.safe_dump(doc))
    code = main(["run", "--arch", str(path), "--workload", "gemm:8x8x8"])
    err = capsys.readouterr().err
    assert code == 2
    assert "cores.shared" in err and "multi.yaml" in err and "dram" in err
    assert "Traceback" not in err
