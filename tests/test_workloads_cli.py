"""Bad workloads and specs exit 2 with a message naming file, field and allowed values."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from sparsim.cli import main


def _relu_only_onnx(path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="r")], "g", [x], [y])
    onnx.save(helper.make_model(graph), str(path))


def _files(tmp_path):
    not_onnx = tmp_path / "model.onnx"
    not_onnx.write_text("this is not a protobuf\n" * 20)
    no_layers = tmp_path / "relu.onnx"
    _relu_only_onnx(no_layers)
    missing_col = tmp_path / "short.csv"
    header = "Layer, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter"
    missing_col.write_text(f"{header}, Strides,\nconv1, 56, 56, 3, 3, 64,\n")
    non_numeric = tmp_path / "text.csv"
    non_numeric.write_text("Layer, M, N, K,\nfc, 128, many, 768,\n")
    old_json = tmp_path / "future.json"
    old_json.write_text(json.dumps({"format_version": 7, "name": "x", "layers": []}))
    no_weights = tmp_path / "empty.npz"
    np.savez(no_weights, bias=np.zeros(3))
    return {
        "not_onnx": not_onnx,
        "no_layers": no_layers,
        "missing_col": missing_col,
        "non_numeric": non_numeric,
        "json_version": old_json,
        "no_weights": no_weights,
    }


RUN = ["run", "--workload"]
CASES = [
    # (argv, strings the message must contain); "@name" stands for the file `_files` made
    ([*RUN, "resnet50", "--sparsity", "nm:5:4"], ["1 <= N <= M"]),
    ([*RUN, "vgg16", "--sparsity", "magnitude:1.0"], ["0 <= S < 1"]),
    ([*RUN, "gemm:8x8x8", "--sparsity", "random:-0.2"], ["S ="]),
    ([*RUN, "@not_onnx"], ["model.onnx", "ONNX"]),
    ([*RUN, "@no_layers"], ["relu.onnx", "Relu", "Conv"]),
    ([*RUN, "@missing_col"], ["short.csv", "line 2", "Strides"]),
    ([*RUN, "@non_numeric"], ["text.csv", "'N'", "many"]),
    ([*RUN, "@json_version"], ["future.json", "format_version", "7"]),
    (["prune", "@no_weights", "--method", "nm:2:4"], ["empty.npz", "weight"]),
    ([*RUN, "nowhere.onnx"], ["nowhere.onnx", "existing file"]),
    ([*RUN, "resnet51"], ["resnet50", "gemm:MxNxK"]),
    (["prune", "vgg16", "--method", "block:4"], ["block:B:S"]),
]


@pytest.mark.parametrize(("argv", "needles"), CASES)
def test_bad_input_exits_2_naming_file_and_field(argv, needles, tmp_path, capsys):
    files = _files(tmp_path)
    argv = [str(files[a[1:]]) if a.startswith("@") else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)


def test_not_onnx_in_a_subprocess_has_no_traceback(tmp_path):
    files = _files(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "sparsim", "run", "--workload", str(files["not_onnx"])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert str(files["not_onnx"]) in proc.stderr


def test_train_prefix_runs_three_gemms_per_layer(capsys):
    assert (
        main(["run", "--workload", "train:gemm:64x128x256", "--sparsity", "bdwp:2:4", "--json"])
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    names = [layer["name"] for layer in doc["layers"]]
    assert names == [f"gemm:64x128x256/{p}" for p in ("fwd", "bwd_data", "bwd_weight")]
    modes = [layer["mode"] for layer in doc["layers"]]
    assert modes == ["2:4", "2:4", "dense"]  # bidirectional: W^T is 2:4 too; dY is dense
    assert (
        main(["run", "--workload", "train:gemm:64x128x256", "--sparsity", "nm:2:4", "--json"]) == 0
    )
    modes = [layer["mode"] for layer in json.loads(capsys.readouterr().out)["layers"]]
    assert modes[0] == "2:4" and modes[2] == "dense"
