"""Importers, each on files the tests build: ONNX, PyTorch, safetensors/npz/pt, SCALE-Sim CSV."""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import replace

import numpy as np
import onnx
import pytest
import torch
import torch.nn.utils.prune
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import save_file

from sparsim.cli import main
from workloads.activations import delta_density, relu_density, threshold_density
from workloads.layers import Conv2d, Gemm, conv_weight_gemm_view
from workloads.onnx_import import UnsupportedOpWarning, import_onnx
from workloads.pruning import nm_mask
from workloads.resolve import read_workload_file
from workloads.scalesim_csv import parse_topology
from workloads.sparsity import NM, satisfies_nm
from workloads.state_dict import import_state_dict
from workloads.torch_import import import_torch

RNG = np.random.default_rng(0)


def _init(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def _conv_weights_2_4(k, cg, r, s, rng):
    """ONNX-layout conv weights whose GEMM view is 2:4 along K (pruned there, mapped back)."""
    w = rng.normal(size=(k, cg, r, s)).astype(np.float32)
    view = conv_weight_gemm_view(w)
    mask = nm_mask(view, NM(2, 4), axis=0)  # (R*S*C, K): row index = (r*S + s)*C + c
    back = mask.reshape(r, s, cg, k).transpose(3, 2, 0, 1)
    return w * back


def toy_onnx() -> onnx.ModelProto:
    """Conv (2:4-pruned) -> ReLU -> grouped conv -> depthwise conv (stride 2) -> residual-free
    -> Conv1d-free flatten -> Gemm(transB) -> MatMul attention pair -> LSTM (unsupported)."""
    rng = np.random.default_rng(0)  # the same model on every call
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 8, 8])
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu"),
        helper.make_node(
            "Conv", ["r1", "w2"], ["c2"], name="grouped", group=2, auto_pad="SAME_UPPER"
        ),
        helper.make_node(
            "Conv",
            ["c2", "w3"],
            ["c3"],
            name="depthwise",
            group=8,
            strides=[2, 2],
            pads=[1, 1, 1, 1],
        ),
        helper.make_node("Add", ["c3", "c3"], ["res"], name="add"),
        helper.make_node("Flatten", ["res"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "wfc"], ["fc"], name="fc", transB=1),
        helper.make_node("Reshape", ["fc", "shape"], ["q"], name="heads"),
        helper.make_node("Transpose", ["q"], ["kt"], name="kt", perm=[0, 1, 3, 2]),
        helper.make_node("MatMul", ["q", "kt"], ["scores"], name="qk"),
        helper.make_node("Softmax", ["scores"], ["p"], name="softmax"),
        helper.make_node("MatMul", ["p", "q"], ["ctx"], name="av"),
        helper.make_node("Reshape", ["ctx", "seq"], ["seq_in"], name="to_seq"),
        helper.make_node(
            "LSTM", ["seq_in", "lw", "lr"], ["lstm_out"], name="my_lstm", hidden_size=4
        ),
    ]
    inits = [
        _init("w1", _conv_weights_2_4(8, 4, 3, 3, rng)),
        _init("w2", rng.normal(size=(8, 4, 3, 3)).astype(np.float32)),
        _init("w3", rng.normal(size=(8, 1, 3, 3)).astype(np.float32)),
        _init("wfc", rng.normal(size=(32, 8 * 4 * 4)).astype(np.float32)),
        _init("shape", np.array([1, 2, 4, 4], np.int64)),
        _init("seq", np.array([8, 1, 4], np.int64)),
        _init("lw", rng.normal(size=(1, 16, 4)).astype(np.float32)),
        _init("lr", rng.normal(size=(1, 16, 4)).astype(np.float32)),
    ]
    out = helper.make_tensor_value_info("lstm_out", TensorProto.FLOAT, None)
    graph = helper.make_graph(nodes, "toy", [x], [out], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_onnx_conv_grouped_depthwise_gemm_matmul():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wl = import_onnx(toy_onnx(), source="toy.onnx")
    messages = [str(w.message) for w in caught if issubclass(w.category, UnsupportedOpWarning)]
    assert len(messages) == 1 and "LSTM" in messages[0] and "my_lstm" in messages[0]
    by = {lw.name: lw for lw in wl.layers}
    assert list(by) == ["conv", "grouped", "depthwise", "fc", "qk", "av"]
    conv, grouped, dw = by["conv"].layer, by["grouped"].layer, by["depthwise"].layer
    assert (conv.c, conv.k, conv.out_h, conv.gemm().k) == (4, 8, 8, 36)
    assert grouped.groups == 2 and grouped.pads == (1, 1, 1, 1)  # SAME_UPPER, 3x3
    assert by["grouped"].weights.shape == (2, 36, 4)  # K = 3*3*(8/2)
    assert dw.is_depthwise and dw.out_h == 4 and by["depthwise"].weights.shape == (8, 9, 1)
    assert by["fc"].layer == Gemm("fc", m=1, n=32, k=128)
    np.testing.assert_array_equal(
        by["fc"].weights, numpy_helper.to_array(toy_onnx().graph.initializer[3]).T
    )
    qk = by["qk"].layer
    assert (qk.groups, qk.m, qk.n, qk.k, qk.has_weights) == (2, 4, 4, 4, False)
    assert by["qk"].weights is None
    # the 2:4 conv reads back as 2:4 along K, from its stored zeros
    assert satisfies_nm(by["conv"].mask, NM(2, 4), axis=-2) and by["conv"].pattern == NM(2, 4)
    assert wl.sparsity == "stored"
    assert wl.graph.has_edge("conv", "grouped") and wl.graph.has_edge("depthwise", "fc")
    assert set(wl.graph.predecessors("av")) == {"qk", "fc"}
    for lw in wl.layers:
        assert lw.macs == lw.layer.groups * lw.gemm.macs


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the LSTM overflows on random weights
@pytest.mark.filterwarnings("ignore::workloads.onnx_import.UnsupportedOpWarning")
def test_onnx_activation_density_measured_on_sample_inputs():
    x = RNG.normal(size=(1, 4, 8, 8)).astype(np.float32)
    wl = import_onnx(toy_onnx(), sample_inputs={"x": x})
    w1 = numpy_helper.to_array(toy_onnx().graph.initializer[0])
    c1 = Conv2d("c", h=8, w=8, c=4, r=3, s=3, k=8, padding=1).lower_activations(
        x.transpose(0, 2, 3, 1)
    ) @ conv_weight_gemm_view(w1)
    assert wl.layer("conv").activation_density == 1.0  # the raw input
    assert wl.layer("grouped").activation_density == pytest.approx(relu_density(np.maximum(c1, 0)))


def test_onnx_quantized_weights_through_dequantize_linear():
    wq = np.array([[0, 3, 0, -2], [5, 0, 0, 1]], np.int8)  # (K=2, N=4)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 2])
    nodes = [
        helper.make_node("DequantizeLinear", ["wq", "scale"], ["w"], name="dq"),
        helper.make_node("MatMul", ["x", "w"], ["y"], name="mm"),
    ]
    inits = [_init("wq", wq), _init("scale", np.float32(0.5))]
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    model = helper.make_model(helper.make_graph(nodes, "q", [x], [y], inits))
    (lw,) = import_onnx(model).layers
    assert lw.layer == Gemm("mm", m=3, n=4, k=2)
    np.testing.assert_array_equal(lw.mask, wq != 0)
    np.testing.assert_allclose(lw.weights, wq * 0.5)


def test_onnx_through_the_cli_and_prune(tmp_path, capsys):
    path = tmp_path / "toy.onnx"
    onnx.save(toy_onnx(), str(path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnsupportedOpWarning)
        assert main(["run", "--workload", str(path), "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert [layer["name"] for layer in doc["layers"]][:2] == ["conv", "grouped"]
        assert doc["layers"][0]["mode"] == "2:4"  # the stored mask runs sparse
        out = tmp_path / "pruned.json"
        assert main(["prune", str(path), "--method", "nm:2:4", "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert main(["run", "--workload", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["sparsity"] == "nm:2:4" and "dense_totals" in doc
    assert {layer["mode"] for layer in doc["layers"] if layer["name"] != "qk"} >= {"2:4"}


class Block(torch.nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(c, c, 3, padding="same")
        self.dw = torch.nn.Conv2d(c, c, 3, padding=1, groups=c)

    def forward(self, x):
        return x + self.dw(torch.relu(self.conv(x)))  # a residual branch


class TinyNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.block = Block(8)
        self.temporal = torch.nn.Conv1d(8, 4, 3)
        self.head = torch.nn.Linear(4 * 14, 10)

    def forward(self, x):
        x = self.block(torch.relu(self.stem(x)))
        x = torch.relu(self.temporal(x.flatten(2)))
        return self.head(x.flatten(1))


def test_torch_module_shapes_weights_activations_and_graph():
    torch.manual_seed(0)
    net = TinyNet()
    torch.nn.utils.prune.l1_unstructured(net.head, "weight", amount=0.75)
    with torch.no_grad():  # a 2:4 mask on the stem, along its reduction dimension
        view = conv_weight_gemm_view(net.stem.weight.numpy())
        mask = nm_mask(view, NM(2, 4), axis=0).reshape(3, 3, 3, 8).transpose(3, 2, 0, 1)
        net.stem.weight.mul_(torch.from_numpy(mask.astype(np.float32)))
    x = torch.randn(2, 3, 8, 8)
    seen = {}
    handles = [
        m.register_forward_pre_hook(lambda mod, args, n=n: seen.setdefault(n, args[0].clone()))
        for n, m in net.named_modules()
        if n in ("block.conv", "temporal", "head")
    ]
    with torch.no_grad():
        net(x)
    for h in handles:
        h.remove()
    wl = import_torch(net, x)
    by = {lw.name: lw for lw in wl.layers}
    assert list(by) == ["stem", "block.conv", "block.dw", "temporal", "head"]
    stem = by["stem"].layer
    assert (stem.batch, stem.c, stem.k, stem.out_h, stem.strides) == (2, 3, 8, 4, (2, 2))
    assert by["block.dw"].layer.is_depthwise and by["block.dw"].weights.shape == (8, 9, 1)
    t = by["temporal"].layer
    assert (t.h, t.w, t.r, t.s, t.out_w) == (1, 16, 1, 3, 14)
    assert by["head"].layer == Gemm("head", m=2, n=10, k=56)
    np.testing.assert_array_equal(by["head"].weights, net.head.weight.detach().numpy().T)
    assert by["head"].weight_density == pytest.approx(0.25)  # torch's prune mask is kept
    assert by["stem"].pattern == NM(2, 4) and wl.sparsity == "stored"
    for name in ("block.conv", "temporal", "head"):
        assert by[name].activation_density == pytest.approx(relu_density(seen[name].numpy()))
    assert by["block.conv"].activation_density < 1.0  # ReLU zeros after the stem
    edges = set(wl.graph.edges)
    assert {("stem", "block.conv"), ("block.conv", "block.dw"), ("block.dw", "temporal")} <= edges
    assert ("stem", "temporal") in edges  # the residual branch
    assert net.training  # the module's mode is restored


def _state_dict():
    w = RNG.normal(size=(16, 32)).astype(np.float32)
    return {
        "layers.10.weight": (w * nm_mask(w.T, NM(1, 4), axis=0).T),  # (out, in), 1:4 along in
        "layers.2.weight": RNG.normal(size=(32, 8, 3, 3)).astype(np.float32),
        "layers.2.bias": np.zeros(32, np.float32),
        "norm.weight": np.ones(32, np.float32),
        "embed_tokens.weight": np.ones((100, 8), np.float32),
    }


def test_state_dict_layers_in_natural_order():
    wl = import_state_dict(_state_dict(), source="m.safetensors")
    assert [lw.name for lw in wl.layers] == ["layers.2", "layers.10"]
    conv, fc = wl.layers
    assert conv.layer == Conv2d("layers.2", h=3, w=3, c=8, r=3, s=3, k=32)  # one output pixel
    assert fc.layer == Gemm("layers.10", m=1, n=16, k=32) and fc.pattern == NM(1, 4)
    assert import_state_dict(_state_dict(), tokens=8).layers[1].gemm.m == 8


@pytest.mark.parametrize("suffix", [".safetensors", ".npz", ".pt"])
def test_state_dict_files_through_the_cli(suffix, tmp_path, capsys):
    path = tmp_path / f"model{suffix}"
    tensors = _state_dict()
    if suffix == ".safetensors":
        save_file(tensors, str(path))
    elif suffix == ".npz":
        np.savez(path, **tensors)
    else:
        torch.save({k: torch.from_numpy(v) for k, v in tensors.items()}, path)
    assert read_workload_file(path).macs == 32 * 8 * 9 + 16 * 32
    assert main(["run", "--workload", str(path), "--batch", "4", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["totals"]["macs"] == 4 * (32 * 8 * 9 + 16 * 32)
    assert doc["layers"][1]["mode"] == "2:4"  # 1:4 weights run as 2:4 on the edge array


CONV_HEADER = (
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
    "Strides,\n"
)
CONV_CSV = (
    CONV_HEADER
    + """conv1, 229, 229, 7, 7, 3, 64, 2,
conv2, 56, 56, 1, 1, 64, 64, 2,
conv_DP, 58, 58, 3, 3, 32, 1, 1,
conv3, 28, 28, 3, 3, 64, 128, 1, 2:4,
"""
)


def test_scalesim_conv_topology_read_as_scalesim_reads_it():
    wl = parse_topology(CONV_CSV, "net.csv")
    conv1, conv2, dp, conv3 = (lw.layer for lw in wl.layers)
    for layer, (h, r, s) in zip(
        (conv1, conv2, dp), [(229, 7, 2), (56, 1, 2), (58, 3, 1)], strict=True
    ):
        assert layer.out_h == layer.out_w == math.ceil((h - r + s) / s)  # SCALE-Sim's OFMAP
    assert conv1.out_h == 112 and conv2.out_h == 29  # 1x1 stride 2 on 56: SCALE-Sim rounds up
    assert dp.groups == 32 and dp.macs == 56 * 56 * 9 * 32
    assert conv3.macs == 26 * 26 * 9 * 64 * 128
    assert wl.layers[3].pattern == NM(2, 4) and wl.layers[3].density == 0.5
    assert wl.sparsity == "stored"


def test_scalesim_ofmap_rounds_up_like_scalesim():
    wl = parse_topology("name, H, W, R, S, C, K, stride,\nodd, 56, 56, 1, 1, 8, 8, 2,\n")
    layer = wl.layers[0].layer
    assert layer.out_h == math.ceil((56 - 1 + 2) / 2) == 29
    assert layer.macs == 29 * 29 * 8 * 8


def test_scalesim_gemm_topology_and_cli(tmp_path, capsys):
    path = tmp_path / "gemms.csv"
    path.write_text("Layer, M, N, K,\nproj, 128, 768, 768,\nffn, 128, 3072, 768, 1:4,\n")
    wl = read_workload_file(path)
    assert [lw.layer for lw in wl.layers] == [
        Gemm("proj", 128, 768, 768),
        Gemm("ffn", 128, 3072, 768),
    ]
    assert main(["run", "--workload", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["totals"]["macs"] == 128 * 768 * 768 + 128 * 3072 * 768
    assert [layer["mode"] for layer in doc["layers"]] == ["dense", "2:4"]


def test_activation_density_measures():
    x = np.array([[0.0, 1.0], [-2.0, 0.5]])
    assert relu_density(np.maximum(x, 0)) == 0.5
    assert threshold_density(x, np.array([0.1, 0.7])) == 0.5  # per-channel (last axis)
    frames = np.array([[1.0, 2.0], [1.0, 2.5], [1.0, 2.5]])
    assert delta_density(frames) == pytest.approx((2 + 1 + 0) / 6)


def _qdq_linear(weight_type: int, act_type: int) -> onnx.ModelProto:
    """x (float) -> QuantizeLinear -> DequantizeLinear -> MatMul with weights stored
    quantized (`weight_type`) behind a DequantizeLinear: a QDQ model."""
    rng = np.random.default_rng(1)
    wq = rng.integers(-7, 8, size=(64, 32))
    zero = helper.make_tensor("xz", act_type, [], [0])
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"], name="q"),
        helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"], name="dqx"),
        helper.make_node("DequantizeLinear", ["wq", "ws"], ["w"], name="dqw"),
        helper.make_node("MatMul", ["xd", "w"], ["y"], name="fc"),
    ]
    inits = [
        helper.make_tensor("wq", weight_type, list(wq.shape), wq.ravel().tolist()),
        _init("ws", np.float32(0.1)),
        _init("xs", np.float32(0.05)),
        zero,
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [16, 64])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph(nodes, "qdq", [x], [y], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])


@pytest.mark.parametrize(
    ("weight_type", "act_type", "bits"),
    [
        (TensorProto.INT4, TensorProto.INT8, (4, 8)),
        (TensorProto.INT8, TensorProto.UINT8, (8, 8)),
        (TensorProto.INT8, TensorProto.INT16, (8, 16)),
    ],
)
def test_onnx_quantized_widths_carried_into_bytes(weight_type, act_type, bits, tmp_path):
    """A QDQ model's stored widths become the layer's operand widths, survive a
    save/load round trip and set the bytes the layer moves (W4 weights: half of W8)."""
    from simulator.load import load_arch
    from simulator.simulate import simulate
    from sparsim.api import save_workload
    from workloads.saved import read_workload

    wl = import_onnx(_qdq_linear(weight_type, act_type))
    (lw,) = wl.layers
    assert (lw.weight_bits, lw.input_bits) == bits
    save_workload(wl, tmp_path / "q.json")
    (back,) = read_workload(tmp_path / "q.json").layers
    assert (back.weight_bits, back.input_bits) == bits

    arch = load_arch("edge")  # 8-bit data: the layer's own widths move the bytes
    plain = wl.__class__(wl.name, (replace(lw, weight_bits=None, input_bits=None),))
    dram = [simulate(w, arch).layers[0].levels["dram"]["accesses"] for w in (wl, plain)]
    for operand, width in (("weights", bits[0]), ("inputs", bits[1])):
        ours, as_arch = (d[operand]["reads_bytes"] + d[operand]["fills_bytes"] for d in dram)
        assert ours * arch.pe_array.data_bits == as_arch * width


def test_onnx_integer_ops_widths():
    """MatMulInteger reads its operands' integer types; a float model has none."""
    a = helper.make_tensor_value_info("a", TensorProto.UINT8, [4, 8])
    b = np.ones((8, 3), np.int8)
    nodes = [helper.make_node("MatMulInteger", ["a", "b"], ["y"], name="mmi")]
    y = helper.make_tensor_value_info("y", TensorProto.INT32, None)
    model = helper.make_model(helper.make_graph(nodes, "i", [a], [y], [_init("b", b)]))
    (lw,) = import_onnx(model).layers
    assert (lw.weight_bits, lw.input_bits) == (8, 8)
    assert all(
        (lw.weight_bits, lw.input_bits) == (None, None) for lw in import_onnx(toy_onnx()).layers
    )
