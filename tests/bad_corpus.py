"""A corpus of bad inputs, written into a folder: every loader, every guard.

`build_corpus(folder)` writes the files and returns `Case`s: the argv of one
`sparsim` command that must end in a clean exit 2. `heavy` cases (bombs,
huge shapes, hangs) run as their own process under a memory and time cap;
the rest run in-process. Used by tests/test_bad_inputs.py.
"""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

GOOD_YAML = """\
name: probe
clock_mhz: 500
pe_array:
  rows: 4
  cols: 4
  multipliers: 2
  nm_patterns: ["2:4"]
  dataflow: ws
memory:
  dram:
    bandwidth_bytes_per_cycle: 16
  glb:
    capacity_kib: 64
    bandwidth_bytes_per_cycle: 64
"""

GOOD_CFG = """\
[general]
run_name = probe

[architecture_presets]
ArrayHeight : 8
ArrayWidth : 8
IfmapSramSzkB : 64
FilterSramSzkB : 64
OfmapSramSzkB : 64
IfmapOffset : 0
FilterOffset : 10000000
OfmapOffset : 20000000
Dataflow : os
ReadRequestBuffer : 32
WriteRequestBuffer : 32
Bandwidth : 10

[layout]
IfmapCustomLayout : False
FilterCustomLayout : False
IfmapSRAMBankBandwidth : 10
IfmapSRAMBankNum : 1
IfmapSRAMBankPort : 2
FilterSRAMBankBandwidth : 10
FilterSRAMBankNum : 1
FilterSRAMBankPort : 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth : CALC
UseRamulatorTrace : False
"""

CSV_HEADER = (
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
    "Num Filter, Strides,"
)


@dataclass(frozen=True)
class Case:
    name: str
    argv: tuple[str, ...]
    heavy: bool = False  # own process, memory/time capped
    may_succeed: bool = False  # odd but valid: exit 0 or 2, never 1


def _run(workload: str, *more: str) -> tuple[str, ...]:
    return ("run", "--arch", "edge", "--workload", workload, *more)


def _arch(path: Path) -> tuple[str, ...]:
    return ("run", "--arch", str(path), "--workload", "gemm:8x8x8")


def _layer_doc(layer_type: str = "gemm", **params) -> dict:
    base = {"name": "fc", "m": 4, "n": 4, "k": 4}
    base.update(params)
    return {"type": layer_type, "params": base}


def _saved(**top) -> dict:
    doc = {
        "format_version": 1,
        "name": "wl",
        "sparsity": "dense",
        "arrays": None,
        "layers": [{**_layer_doc(), "density": 1.0, "arrays": False}],
        "edges": None,
    }
    doc.update(top)
    return doc


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def zip_bomb(path: Path, member: str, gigabytes: float) -> None:
    """An .npz whose one member claims `gigabytes` of float32 zeros (a few MB on disk)."""
    n = int(gigabytes * 2**30 // 4)
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({n},), }}"
    header = header + " " * (63 - (len(header) + 10) % 64) + "\n"
    head = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        zf.open(member, "w", force_zip64=True) as fh,
    ):
        fh.write(head)
        chunk = bytes(2**24)
        left = n * 4
        while left > 0:
            fh.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)


def _onnx_cases(d: Path) -> list[Case]:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    cases = []

    def save(name: str, nodes, inits, inputs, outputs) -> Path:
        graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=inits)
        model = helper.make_model(graph)
        path = d / f"{name}.onnx"
        onnx.save(model, str(path))
        return path

    x4 = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
    # a conv without its weight input
    p = save("conv_no_w", [helper.make_node("Conv", ["x"], ["y"], name="c")], [], [x4], [y])
    cases.append(Case("onnx conv missing input", _run(str(p))))
    # an initializer whose raw data is short
    short = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
    short.raw_data = short.raw_data[:10]
    p = save(
        "short_init", [helper.make_node("Conv", ["x", "w"], ["y"], name="c")], [short], [x4], [y]
    )
    cases.append(Case("onnx short initializer", _run(str(p))))
    # weights that do not match the GEMM view (group says 2, channels 3)
    p = save(
        "bad_group",
        [helper.make_node("Conv", ["x", "w"], ["y"], name="c", group=3)],
        [w],
        [x4],
        [y],
    )
    cases.append(Case("onnx conv weights vs groups", _run(str(p))))
    # MatMul whose B does not match A's K
    xa = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 5])
    b = numpy_helper.from_array(np.ones((7, 3), np.float32), "b")
    p = save(
        "mm_mismatch", [helper.make_node("MatMul", ["x", "b"], ["y"], name="m")], [b], [xa], [y]
    )
    cases.append(Case("onnx matmul K mismatch", _run(str(p))))
    # Gemm with a 3-D weight
    b3 = numpy_helper.from_array(np.ones((5, 3, 2), np.float32), "b")
    p = save("gemm_3d", [helper.make_node("Gemm", ["x", "b"], ["y"], name="g")], [b3], [xa], [y])
    cases.append(Case("onnx gemm 3-D weight", _run(str(p)), may_succeed=True))
    # strides attribute of the wrong length
    p = save(
        "bad_strides",
        [helper.make_node("Conv", ["x", "w"], ["y"], name="c", strides=[1])],
        [w],
        [x4],
        [y],
    )
    cases.append(Case("onnx conv strides length", _run(str(p))))
    # an initializer stored outside the model, at an absolute path
    ext = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4, 3, 3, 3])
    ext.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "/dev/zero"), ("length", str(4 * 108))):
        entry = ext.external_data.add()
        entry.key, entry.value = key, value
    p = save("ext_abs", [helper.make_node("Conv", ["x", "w"], ["y"], name="c")], [ext], [x4], [y])
    cases.append(Case("onnx external data absolute", _run(str(p)), heavy=True))
    # huge declared dims (a conv over a 10^12-pixel image)
    xh = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 10**12, 10**12])
    p = save("huge_dims", [helper.make_node("Conv", ["x", "w"], ["y"], name="c")], [w], [xh], [y])
    cases.append(Case("onnx huge dims", _run(str(p)), may_succeed=True))
    # a weight produced by a cycle of Identity nodes
    cyc = [
        helper.make_node("Identity", ["w2"], ["w1"], name="i1"),
        helper.make_node("Identity", ["w1"], ["w2"], name="i2"),
        helper.make_node("Conv", ["x", "w1"], ["y"], name="c"),
    ]
    p = save("identity_cycle", cyc, [], [x4], [y])
    cases.append(Case("onnx identity cycle", _run(str(p))))
    # hundreds of unsupported ops (one note each) and no layer: stderr stays small
    chain = [
        helper.make_node("FooOp", ["x" if i == 0 else f"t{i - 1}"], [f"t{i}"], name=f"n{i}")
        for i in range(300)
    ]
    p = save("many_unsupported", chain, [], [x4], [y])
    cases.append(Case("onnx many unsupported ops", _run(str(p))))
    # an op type that is not UTF-8 (protobuf returns bytes for it)
    p = save("latin_op", [helper.make_node("Conv", ["x", "w"], ["y"], name="c")], [w], [x4], [y])
    p.write_bytes(p.read_bytes().replace(b"Conv", b"\xffonv"))
    cases.append(Case("onnx op type not UTF-8", _run(str(p))))
    # garbage
    (d / "garbage.onnx").write_bytes(os.urandom(512))
    cases.append(Case("onnx garbage", _run(str(d / "garbage.onnx"))))
    return cases


def build_corpus(d: Path) -> list[Case]:
    d = Path(d)
    d.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []

    def arch_file(name: str, data: bytes | str, suffix: str = ".yaml") -> Path:
        path = d / f"{name}{suffix}"
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    # --- arch YAML -------------------------------------------------------------------
    cases.append(Case("yaml undecodable", _arch(arch_file("latin1", b"name: caf\xe9\n"))))
    deep = "name: x\npe_array: " + "[" * 1000 + "]" * 1000 + "\n"
    cases.append(Case("yaml nested lists", _arch(arch_file("deep", deep))))
    deep_map = "name: x\npe_array: " + "{a: " * 1000 + "1" + "}" * 1000 + "\n"
    cases.append(Case("yaml nested maps", _arch(arch_file("deepmap", deep_map))))
    cases.append(Case("yaml int key", _arch(arch_file("intkey", "1: 2\nname: x\n"))))
    nested_key = GOOD_YAML.replace("  rows: 4", "  rows: 4\n  3: 5")
    cases.append(Case("yaml nested int key", _arch(arch_file("intkey2", nested_key))))
    cases.append(Case("yaml list key", _arch(arch_file("listkey", "? [a, b]\n: 1\n"))))
    big = GOOD_YAML.replace("rows: 4", "rows: " + "9" * 5000)
    cases.append(Case("yaml 5000-digit int", _arch(arch_file("bigint", big))))
    big_ok = GOOD_YAML.replace("rows: 4", "rows: " + "9" * 40)
    cases.append(Case("yaml 40-digit int", _arch(arch_file("bigint40", big_ok))))
    bomb = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        bomb.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    bomb.append("name: *a8")
    cases.append(
        Case("yaml alias bomb", _arch(arch_file("bomb", "\n".join(bomb) + "\n")), heavy=True)
    )
    nm_bomb = (
        "\n".join(bomb[:-1]) + "\n" + GOOD_YAML.replace('nm_patterns: ["2:4"]', "nm_patterns: *a8")
    )
    cases.append(
        Case("yaml alias bomb in a list field", _arch(arch_file("nmbomb", nm_bomb)), heavy=True)
    )
    cases.append(Case("yaml recursive alias", _arch(arch_file("rec", "name: &a [*a]\n"))))
    cases.append(Case("yaml long value", _arch(arch_file("long", "name: " + "x" * 100000 + "\n"))))
    cases.append(
        Case("yaml python tag", _arch(arch_file("tag", "name: !!python/object:os.system x\n")))
    )
    cases.append(Case("yaml binary name", _arch(arch_file("bin", "name: !!binary aGVsbG8=\n"))))
    nan_rows = GOOD_YAML.replace("rows: 4", "rows: .nan")
    cases.append(Case("yaml nan", _arch(arch_file("nan", nan_rows))))
    huge_rows = GOOD_YAML.replace("rows: 4", "rows: 1000000000000")
    cases.append(Case("yaml huge rows", _arch(arch_file("hugerows", huge_rows)), may_succeed=True))
    ctrl = GOOD_YAML.replace("probe", '"pro\\x1b[31mbe\\u0007"').replace("  rows: 4", "  rows: -1")
    cases.append(Case("yaml control chars", _arch(arch_file("ctrl", ctrl))))
    long_name = "x" * 300
    cases.append(Case("arch path too long", _arch(d / f"{long_name}.yaml")))
    for key, table in (("nul", '"a\\0b"'), ("long", long_name), ("device", "/dev/zero")):
        text = GOOD_YAML + f"energy:\n  table: {table}\n"
        cases.append(Case(f"yaml energy table {key}", _arch(arch_file(f"energy_{key}", text))))
    huge_m = GOOD_YAML.replace('nm_patterns: ["2:4"]', 'nm_patterns: ["1:99999999999"]')
    cases.append(Case("yaml N:M with a huge M", _arch(arch_file("hugem", huge_m))))
    for key, cores in (
        ("zero", "{count: 0}"),
        ("huge", "{count: 1000000000000}"),
        ("glb", "{count: 4, shared: [glb]}"),
        ("no dram", "{count: 4, shared: []}"),
        ("text", "many"),
    ):
        text = GOOD_YAML + f"cores: {cores}\n"
        name = key.replace(" ", "_")
        cases.append(Case(f"yaml cores {key}", _arch(arch_file(f"cores_{name}", text))))
    for key, old, new in (
        ("zero", "memory:\n", "memory:\n  stages: 0\n"),
        ("too many", "memory:\n", "memory:\n  stages: 17\n"),
        ("text", "memory:\n", "memory:\n  stages: three\n"),
        ("bool", "memory:\n", "memory:\n  stages: true\n"),
        ("and double_buffering", "memory:\n", "memory:\n  stages: 3\n  double_buffering: true\n"),
        ("glb zero", "  glb:\n", "  glb:\n    stages: 0\n"),
        (
            "glb and double_buffered",
            "  glb:\n",
            "  glb:\n    stages: 2\n    double_buffered: true\n",
        ),
    ):
        text = GOOD_YAML.replace(old, new)
        name = key.replace(" ", "_")
        cases.append(Case(f"yaml stages {key}", _arch(arch_file(f"stages_{name}", text))))
    many = GOOD_YAML + "cores: {count: 1000000}\n"  # valid: a tiny layer on a million cores
    cases.append(
        Case("yaml a million cores", _arch(arch_file("cores_many", many)), may_succeed=True)
    )
    cases.append(Case("yaml empty", _arch(arch_file("empty", ""))))
    cases.append(Case("yaml list top", _arch(arch_file("list", "- 1\n- 2\n"))))
    cases.append(Case("yaml null bytes", _arch(arch_file("nul", b"name: a\x00b\n"))))
    cases.append(Case("yaml a directory", _arch(Path(d / "adir.yaml"))))
    (d / "adir.yaml").mkdir(exist_ok=True)
    fifo = d / "fifo.yaml"
    if not fifo.exists():
        os.mkfifo(fifo)
    cases.append(Case("yaml fifo", _arch(fifo), heavy=True))

    # --- SCALE-Sim .cfg ---------------------------------------------------------------
    def cfg(name: str, text: str | bytes) -> tuple[str, ...]:
        return _arch(arch_file(name, text, ".cfg"))

    cases.append(
        Case(
            "cfg percent",
            cfg("pct", GOOD_CFG.replace("run_name = probe", "run_name = 50%off")),
            may_succeed=True,
        )
    )
    cases.append(
        Case("cfg percent key", cfg("pct2", GOOD_CFG.replace("Dataflow : os", "Dataflow : %(x)s")))
    )
    cases.append(
        Case("cfg undecodable", cfg("latin", GOOD_CFG.encode().replace(b"probe", b"caf\xe9")))
    )
    cases.append(
        Case(
            "cfg unicode digit",
            cfg("sup", GOOD_CFG.replace("ArrayHeight : 8", "ArrayHeight : \u00b2")),
        )
    )
    cases.append(
        Case(
            "cfg arabic digit",
            cfg("arab", GOOD_CFG.replace("ArrayHeight : 8", "ArrayHeight : \u0663")),
        )
    )
    cases.append(
        Case(
            "cfg big int",
            cfg("big", GOOD_CFG.replace("ArrayHeight : 8", "ArrayHeight : " + "9" * 5000)),
        )
    )
    cases.append(
        Case(
            "cfg huge array",
            cfg("huge", GOOD_CFG.replace("ArrayHeight : 8", "ArrayHeight : 100000000000000")),
            may_succeed=True,
        )
    )
    cases.append(
        Case(
            "cfg bandwidth unicode",
            cfg(
                "bw",
                GOOD_CFG.replace("Bandwidth : 10", "Bandwidth : \u00b9\u2070").replace(
                    "CALC", "USER"
                ),
            ),
        )
    )
    cases.append(Case("cfg duplicate", cfg("dup", GOOD_CFG + "\n[general]\nrun_name = x\n")))
    cases.append(Case("cfg no section", cfg("nosec", "ArrayHeight : 8\n")))
    cases.append(Case("cfg nul", cfg("nul", GOOD_CFG.replace("probe", "a\x00b")), may_succeed=True))

    # --- topology CSV -----------------------------------------------------------------
    def csv(name: str, text: str | bytes, *more: str) -> tuple[str, ...]:
        path = d / f"{name}.csv"
        path.write_bytes(text.encode() if isinstance(text, str) else text)
        return _run(str(path), *more)

    cases.append(
        Case("csv unicode digit", csv("sup", f"{CSV_HEADER}\nc1, 5\u00b2, 56, 3, 3, 64, 64, 1,\n"))
    )
    cases.append(
        Case(
            "csv arabic digit",
            csv("arab", f"{CSV_HEADER}\nc1, \u0665\u0666, 56, 3, 3, 64, 64, 1,\n"),
        )
    )
    cases.append(
        Case("csv big int", csv("big", f"{CSV_HEADER}\nc1, {'9' * 5000}, 56, 3, 3, 64, 64, 1,\n"))
    )
    cases.append(
        Case(
            "csv huge dims",
            csv("huge", "Layer, M, N, K,\nfc, 100000000000000, 100000000000, 1000000000000,\n"),
            may_succeed=True,
        )
    )
    cases.append(Case("csv undecodable", csv("latin", f"{CSV_HEADER}\nc\xe9\n".encode("latin-1"))))
    cases.append(
        Case("csv nm unicode", csv("nm", "Layer, M, N, K, N:M,\nfc, 8, 8, 8, \u00b2:4,\n"))
    )
    cases.append(Case("csv control name", csv("ctrl", "Layer, M, N, K,\nf\x1b[2Jc, 8, 8, 0,\n")))

    # --- saved workloads (JSON + NPZ) ------------------------------------------------
    def saved(name: str, doc: dict | str | bytes, *more: str) -> tuple[str, ...]:
        path = d / f"{name}.json"
        data = doc if isinstance(doc, (str, bytes)) else json.dumps(doc)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return _run(str(path), *more)

    cases.append(Case("json deep", saved("deep", "[" * 100000 + "]" * 100000)))
    cases.append(Case("json deep object", saved("deepobj", '{"a":' * 5000 + "1" + "}" * 5000)))
    cases.append(Case("json big int", saved("bigint", '{"format_version": ' + "9" * 5000 + "}")))
    big_m = _saved(layers=[{**_layer_doc(m=int("9" * 40)), "arrays": False}])
    cases.append(Case("json huge m", saved("hugem", big_m), may_succeed=True))
    cases.append(Case("json undecodable", saved("latin", b'{"name": "caf\xe9"}')))
    pass_pass = {
        "type": "pass",
        "params": {
            "forward": {"type": "pass", "params": {"forward": _layer_doc(), "pass": "fwd"}},
            "pass": "fwd",
        },
    }
    cases.append(
        Case(
            "json pass of pass", saved("passpass", _saved(layers=[{**pass_pass, "arrays": False}]))
        )
    )
    pass_doc = {"type": "pass", "params": {"forward": _layer_doc(), "pass": "bwd_data"}}
    trained = saved("trained", _saved(layers=[pass_doc]))[-1]
    cases.append(Case("train: on a training workload", ("run", "--workload", f"train:{trained}")))
    pass_bad = {"type": "pass", "params": {"forward": 7, "pass": "fwd"}}
    cases.append(
        Case("json pass of int", saved("passint", _saved(layers=[{**pass_bad, "arrays": False}])))
    )
    cases.append(
        Case(
            "json nm unicode",
            saved("nmu", _saved(layers=[{**_layer_doc(), "pattern": "\u00b2:4"}])),
        )
    )
    cases.append(
        Case(
            "json pattern huge",
            saved("nmh", _saved(layers=[{**_layer_doc(), "pattern": "1:" + "9" * 5000}])),
        )
    )
    cases.append(
        Case(
            "json density nan",
            saved(
                "nan",
                '{"format_version": 1, "layers": [{"type": "gemm", "params": '
                '{"name": "a", "m": 1, "n": 1, "k": 1}, "density": NaN}]}',
            ),
        )
    )
    cyc = _saved(
        layers=[{**_layer_doc(name="a")}, {**_layer_doc(name="b")}], edges=[["a", "b"], ["b", "a"]]
    )
    cases.append(Case("json cyclic edges", saved("cycle", cyc)))
    selfloop = _saved(layers=[{**_layer_doc(name="a")}], edges=[["a", "a"]])
    cases.append(Case("json self loop", saved("selfloop", selfloop)))
    unhashable = _saved(edges=[[["x"], "fc"]])
    cases.append(Case("json unhashable edge", saved("unhash", unhashable)))
    dup = _saved(layers=[{**_layer_doc()}, {**_layer_doc()}])
    cases.append(Case("json duplicate names", saved("dupnames", dup)))
    cases.append(
        Case(
            "json control name",
            saved("ctrl", _saved(layers=[{**_layer_doc(name="a\x1b[2J\x07b", k=0)}])),
        )
    )
    cases.append(
        Case(
            "json tuple padding",
            saved(
                "pad",
                _saved(
                    layers=[
                        {
                            "type": "conv2d",
                            "params": {
                                "name": "c",
                                "h": 4,
                                "w": 4,
                                "c": 1,
                                "r": 1,
                                "s": 1,
                                "k": 1,
                                "padding": [1, 2, 3],
                            },
                        }
                    ]
                ),
            ),
        )
    )
    cases.append(
        Case(
            "json attention bad kind",
            saved(
                "att",
                _saved(
                    layers=[{"type": "attention_matmul", "params": {"name": "a", "kind": "zz"}}]
                ),
            ),
        )
    )
    for key, where in (("abs", "/dev/zero"), ("dotdot", "../outside.npz"), ("fifo", "pipe.npz")):
        doc = _saved(arrays=where, layers=[{**_layer_doc(), "arrays": True}])
        cases.append(Case(f"json arrays {key}", saved(f"arr_{key}", doc), heavy=True))
    pipe = d / "pipe.npz"
    if not pipe.exists():
        os.mkfifo(pipe)
    npz_doc = _saved(arrays="x.npz", layers=[{**_layer_doc(), "arrays": True}])
    for key, data in (
        ("corrupt", os.urandom(300)),
        ("short", _npz_bytes({"layer0.weights": np.ones((4, 4), np.int8)})[:200]),
        ("wrongshape", _npz_bytes({"layer0.weights": np.ones((3, 4), np.int8)})),
        ("object", _npz_bytes({"layer0.weights": np.array([{}, {}], dtype=object)})),
        ("strings", _npz_bytes({"layer0.weights": np.full((4, 4), "a")})),
        ("complex", _npz_bytes({"layer0.weights": np.ones((4, 4), np.complex64)})),
        (
            "mask int",
            _npz_bytes(
                {
                    "layer0.weights": np.ones((4, 4), np.int8),
                    "layer0.mask": np.ones((4, 4), np.int8),
                }
            ),
        ),
    ):
        sub = d / f"npz_{key.replace(' ', '_')}"
        sub.mkdir(exist_ok=True)
        (sub / "x.npz").write_bytes(data)
        path = sub / "wl.json"
        path.write_text(json.dumps(npz_doc))
        cases.append(Case(f"json npz {key}", _run(str(path), "--sparsity", "nm:2:4")))
    bomb_dir = d / "npz_bomb"
    bomb_dir.mkdir(exist_ok=True)
    zip_bomb(bomb_dir / "x.npz", "layer0.weights.npy", 1)
    (bomb_dir / "wl.json").write_text(json.dumps(npz_doc))
    cases.append(Case("json npz zip bomb", _run(str(bomb_dir / "wl.json")), heavy=True))

    # --- state dicts --------------------------------------------------------------------
    def npz(name: str, arrays: dict, *more: str) -> tuple[str, ...]:
        path = d / f"{name}.npz"
        path.write_bytes(_npz_bytes(arrays))
        return _run(str(path), *more)

    cases.append(Case("sd zero-size", npz("zero", {"fc.weight": np.zeros((0, 4), np.float32)})))
    cases.append(
        Case("sd zero-size conv", npz("zeroc", {"c.weight": np.zeros((4, 0, 3, 3), np.float32)}))
    )
    digits_key = {
        f"l{'7' * 5000}.weight": np.ones((4, 4), np.float32),
        "l2.weight": np.ones((4, 4)),
    }
    cases.append(Case("sd 5000-digit name", npz("digitkey", digits_key), may_succeed=True))
    twins = {"a\x01.weight": np.ones((4, 4), np.float32), "a\\x01.weight": np.ones((4, 4))}
    cases.append(Case("sd names equal once escaped", npz("twins", twins), may_succeed=True))
    cases.append(Case("sd complex", npz("cplx", {"fc.weight": np.ones((4, 4), np.complex64)})))
    cases.append(Case("sd bool", npz("bool", {"fc.weight": np.ones((4, 4), bool)})))
    cases.append(
        Case(
            "sd huge tokens",
            npz("ctrlname", {"f\x1b[2J.weight": np.zeros((4, 4), np.float32)}, "--batch", "0"),
        )
    )
    (d / "corrupt.npz").write_bytes(os.urandom(1000))
    cases.append(Case("sd corrupt npz", _run(str(d / "corrupt.npz"))))
    (d / "short.npz").write_bytes(_npz_bytes({"fc.weight": np.ones((64, 64), np.float32)})[:-100])
    cases.append(Case("sd short npz", _run(str(d / "short.npz"))))
    zip_bomb(d / "sdbomb.npz", "fc.weight.npy", 1)
    cases.append(Case("sd npz zip bomb", _run(str(d / "sdbomb.npz")), heavy=True))
    header = json.dumps(
        {"fc.weight": {"dtype": "F32", "shape": [100000, 100000], "data_offsets": [0, 16]}}
    ).encode()
    (d / "lie.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + bytes(16))
    cases.append(Case("safetensors lying shape", _run(str(d / "lie.safetensors"))))
    (d / "hdr.safetensors").write_bytes(struct.pack("<Q", 2**60) + b"{}")
    cases.append(Case("safetensors huge header", _run(str(d / "hdr.safetensors"))))
    (d / "garbage.safetensors").write_bytes(os.urandom(64))
    cases.append(Case("safetensors garbage", _run(str(d / "garbage.safetensors"))))
    (d / "garbage.pt").write_bytes(b"PK\x03\x04" + os.urandom(200))
    cases.append(Case("pt garbage", _run(str(d / "garbage.pt"))))
    pickled = d / "pickle.pt"
    import pickle

    pickled.write_bytes(pickle.dumps({"fc.weight": os.getcwd}))
    cases.append(Case("pt pickle", _run(str(pickled))))

    cases.extend(_onnx_cases(d))

    # --- CLI strings ------------------------------------------------------------------------
    cases.append(Case("seed -1", _run("gemm:8x8x8", "--seed", "-1")))
    cases.append(
        Case("prune seed -1", ("prune", "gemm:8x8x8", "--method", "nm:2:4", "--seed", "-1"))
    )
    cases.append(Case("seed digits", _run("gemm:8x8x8", "--seed", "9" * 5000)))
    cases.append(Case("batch huge", _run("gemm:8x8x8", "--batch", str(10**30)), may_succeed=True))
    cases.append(Case("gemm unicode digits", _run("gemm:\u00b2x8x8")))
    cases.append(Case("gemm arabic digits", _run("gemm:\u0668x8x8")))
    cases.append(Case("gemm 5000 digits", _run("gemm:" + "9" * 5000 + "x8x8")))
    cases.append(
        Case(
            "gemm huge",
            _run("gemm:100000000000x100000000000x100000000000"),
            may_succeed=True,
        )
    )
    cases.append(Case("conv unicode", _run("conv:8x8x\u00b3:3x3x8")))
    cases.append(Case("block unicode", _run("gemm:8x8x8", "--sparsity", "block:\u00b2:0.5")))
    cases.append(Case("nm unicode", _run("gemm:8x8x8", "--sparsity", "nm:\u00b2:4")))
    cases.append(Case("nm huge", _run("gemm:8x8x8", "--sparsity", "nm:1:" + "9" * 5000)))
    cases.append(Case("nm huge m", _run("gemm:8x8x8", "--sparsity", "nm:1:100000000000")))
    cases.append(Case("sparsity control", _run("gemm:8x8x8", "--sparsity", "\x1b[2J" * 2000)))
    cases.append(Case("workload control", _run("x\x1b[2J\x07" * 2000)))
    cases.append(
        Case(
            "min density nan",
            ("prune", "resnet50", "--method", "global:0.5", "--min-density", "nan"),
        )
    )
    afile = d / "afile"
    afile.write_text("x")
    cases.append(Case("run -o onto a file", _run("gemm:8x8x8", "-o", str(afile))))
    cases.append(Case("run -o under a file", _run("gemm:8x8x8", "-o", str(afile / "sub"))))
    cases.append(Case("run -o /proc", _run("gemm:8x8x8", "-o", "/proc/sparsim_out")))
    cases.append(Case("workload path too long", _run(str(d / ("y" * 300 + ".onnx")))))
    cases.append(Case("run -o name too long", _run("gemm:8x8x8", "-o", str(d / ("z" * 300)))))
    too_long = str(d / ("z" * 300 + ".json"))
    cases.append(Case("prune -o name too long", ("prune", "gemm:8x8x8", "-o", too_long)))
    cases.append(Case("prune -o .", ("prune", "gemm:8x8x8", "--method", "nm:2:4", "-o", ".")))
    cases.append(Case("prune -o dir", ("prune", "gemm:8x8x8", "--method", "nm:2:4", "-o", str(d))))
    cases.append(
        Case(
            "prune -o under file",
            ("prune", "gemm:8x8x8", "--method", "nm:2:4", "-o", str(afile / "x.json")),
        )
    )
    cases.append(
        Case("prune -o /proc", ("prune", "gemm:8x8x8", "--method", "nm:2:4", "-o", "/proc/x.json"))
    )
    cases.append(Case("demo seed -1", ("demo", "--seed", "-1", "-o", str(d / "demo"))))
    cases.append(Case("demo -o /proc", ("demo", "-o", "/proc/sparsim_demo")))
    (d / "npzdir").mkdir(exist_ok=True)
    (d / "npzdir" / "wl.npz").mkdir(exist_ok=True)
    npz_dir = str(d / "npzdir" / "wl.json")
    cases.append(Case("prune -o beside a folder", ("prune", "gemm:8x8x8", "-o", npz_dir)))
    cases.append(Case("verify seed -1", ("verify", "--seed", "-1")))
    return cases
