"""SCALE-Sim v3 parity: with a SCALE-Sim `.cfg` and topology `.csv` read as they
are, sparsim's dense `compute` equals SCALE-Sim's "Total Cycles" for OS, WS
and IS, layer by layer, and its layer-wise N:M results.

No SCALE-Sim here: the expected numbers are (a) SCALE-Sim's own totals as
quoted in ../shared/peers/README.md ("Checked against SCALE-Sim's own output:
ResNet-50 on 128x128 gives OS 645,320, WS 916,490 and IS 1,070,450; on
256x256 WS 452,002", and its measured-baselines table), (b) per layer, the
formula that README read from SCALE-Sim 3.0.0's compute/systolic_compute_*.py,
written out independently below, and (c) per-layer numbers SCALE-Sim 3.0.0
printed when bench/peer_scalesim.py ran it (the bench runs it again).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from simulator.load import load_arch
from simulator.simulate import simulate
from workloads.resolve import load_workload
from workloads.sparsity_spec import parse_sparsity

DATA = Path(__file__).resolve().parent / "data" / "scalesim"
RESNET = DATA / "resnet50_scalesim.csv"


def _cfg(tmp_path: Path, rows: int = 128, dataflow: str = "ws", sparse: bool = False) -> Path:
    text = (DATA / "sa128_ws.cfg").read_text()
    text = text.replace("ArrayHeight : 128", f"ArrayHeight : {rows}")
    text = text.replace("ArrayWidth : 128", f"ArrayWidth : {rows}")
    text = text.replace("Dataflow : ws", f"Dataflow : {dataflow}")
    if sparse:
        text = text.replace("SparsitySupport : false", "SparsitySupport : true")
    path = tmp_path / f"sa{rows}_{dataflow}{'_nm' if sparse else ''}.cfg"
    path.write_text(text)
    return path


def _run(cfg: Path, topology: Path):
    return simulate(load_workload(str(topology), parse_sparsity("dense")), load_arch(cfg))


def scalesim_formula(rows, cols, dataflow, h, w, r, s, c, k, stride, n=1, m=1):
    """SCALE-Sim v3's Total Cycles of a conv layer (peers README, "Cycle definition").

    K = R*S*C (packed to ceil(K*N/M) in layer-wise N:M), P = OFMAP pixels with
    OFMAP = ceil((H - R + S) / S), F = filters.
    """
    red = math.ceil(r * s * c * n / m)
    pix = math.ceil((h - r + stride) / stride) * math.ceil((w - s + stride) / stride)
    if dataflow == "os":
        folds, per_fold = math.ceil(pix / rows) * math.ceil(k / cols), rows + cols + red - 2
    elif dataflow == "ws":
        folds, per_fold = math.ceil(red / rows) * math.ceil(k / cols), 2 * rows + cols + pix - 2
    else:
        folds, per_fold = math.ceil(red / rows) * math.ceil(pix / cols), 2 * rows + cols + k - 2
    return folds * per_fold - 1


def _topology_rows(path: Path):
    for line in path.read_text().splitlines()[1:]:
        f = [x.strip() for x in line.split(",") if x.strip()]
        yield f[0], [int(v) for v in f[1:8]]


@pytest.mark.parametrize(
    ("dataflow", "total"), [("os", 645_320), ("ws", 916_490), ("is", 1_070_450)]
)
def test_resnet50_on_128x128_equals_scalesim(tmp_path, dataflow, total):
    res = _run(_cfg(tmp_path, 128, dataflow), RESNET)
    assert res.totals.cycles.compute == total
    assert res.totals.cycles.memory_stall == 0  # CALC mode: stall-free, as SCALE-Sim
    for layer, (name, dims) in zip(res.layers, _topology_rows(RESNET), strict=True):
        assert layer.name == name
        assert layer.cycles.compute == scalesim_formula(128, 128, dataflow, *dims), name


def test_resnet50_on_256x256_ws_equals_scalesim(tmp_path):
    assert _run(_cfg(tmp_path, 256, "ws"), RESNET).totals.cycles.compute == 452_002


def _one_layer(tmp_path: Path, row: str, header: str | None = None) -> Path:
    header = header or (
        "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
        "Num Filter, Strides,"
    )
    path = tmp_path / "topo.csv"
    path.write_text(f"{header}\n{row}\n")
    return path


@pytest.mark.parametrize(
    ("dataflow", "cycles"), [("os", 125_047), ("ws", 116_279), ("is", 278_711)]
)
def test_conv_test_layer_on_32x32_equals_scalesim(tmp_path, dataflow, cycles):
    """Peers README, measured baselines: 3x3 conv 56x56x64 -> 64 (padded ifmap 58)."""
    topo = _one_layer(tmp_path, "conv, 58, 58, 3, 3, 64, 64, 1,")
    assert _run(_cfg(tmp_path, 32, dataflow), topo).totals.cycles.compute == cycles


@pytest.mark.parametrize(
    ("dataflow", "cycles"), [("os", 106_239), ("ws", 134_399), ("is", 116_351)]
)
def test_gemm_form_on_32x32_equals_scalesim(tmp_path, dataflow, cycles):
    """Peers README, measured baselines: GEMM M256 N512 K768 (`-i gemm` topology)."""
    topo = _one_layer(tmp_path, "g, 256, 512, 768,", header="Layer, M, N, K,")
    assert _run(_cfg(tmp_path, 32, dataflow), topo).totals.cycles.compute == cycles


def test_layerwise_nm_on_the_conv_test_layer(tmp_path):
    """Peers README: 2:4 is exactly 2.0x under WS (true cycle counts), 1:4 is 3.6x."""
    cfg = _cfg(tmp_path, 32, "ws", sparse=True)
    header = (
        "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
        "Num Filter, Strides, N:M,"
    )
    counts = {}
    for nm in ("1:1", "2:4", "1:4"):
        topo = _one_layer(tmp_path, f"conv, 58, 58, 3, 3, 64, 64, 1, {nm},", header)
        res = _run(cfg, topo)
        counts[nm] = res.totals.cycles.compute
        n, m = map(int, nm.split(":"))
        assert counts[nm] == scalesim_formula(32, 32, "ws", 58, 58, 3, 3, 64, 64, 1, n, m)
        assert res.layers[0].mode == ("dense" if n == m else nm)
    assert (counts["1:1"] + 1) / (counts["2:4"] + 1) == 2.0
    assert (counts["1:1"] + 1) / (counts["1:4"] + 1) == pytest.approx(3.6)


# SCALE-Sim 3.0.0's "Total Cycles", printed when bench/peer_scalesim.py ran it
# (128 x 128, ResNet-50 layers, SCALE-Sim's layer-wise N:M under WS).
MEASURED_NM = {
    "2:4": {
        "layer1.0.conv1": 3_517,
        "layer2.1.conv2": 5_829,
        "layer3.1.conv1": 4_623,
        "layer4.1.conv2": 31_031,
        "fc": 24_511,
    },
    "1:4": {
        "layer1.0.conv1": 3_517,
        "layer2.1.conv2": 3_497,
        "layer3.1.conv1": 2_311,
        "layer4.1.conv2": 15_515,
        "fc": 12_255,
    },
}


@pytest.mark.parametrize("nm", sorted(MEASURED_NM))
def test_layerwise_nm_on_resnet_layers_equals_measured_scalesim(tmp_path, nm):
    lines = RESNET.read_text().splitlines()
    rows = [ln for ln in lines[1:] if ln.split(",")[0].strip() in MEASURED_NM[nm]]
    topo = tmp_path / "subset.csv"
    topo.write_text(
        "\n".join([lines[0] + " N:M,", *(f"{r.rstrip().rstrip(',')}, {nm}," for r in rows)])
    )
    res = _run(_cfg(tmp_path, 128, "ws", sparse=True), topo)
    assert {lr.name: lr.cycles.compute for lr in res.layers} == MEASURED_NM[nm]
