"""Every bad input is a clean exit 2: a replayed corpus through the real CLI, and a
hypothesis fuzz over each loader that lets only InputError (or success) out.

The corpus (tests/bad_corpus.py, written into a tmp folder) runs under a 1 GiB
address-space cap: the light cases one after another in one capped
interpreter calling `sparsim.cli.main`, the heavy ones (bombs, huge shapes,
pipes) each as `python -m sparsim` with the cap and a 30 s timeout. Each
must exit 2 (or 0 where the input is odd but valid), print no traceback and
less than 2 KB on stderr, within 30 s.
"""

from __future__ import annotations

import io
import json
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import onnx
import pytest
import yaml
from bad_corpus import CSV_HEADER, GOOD_CFG, GOOD_YAML, build_corpus
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from simulator.load import load_arch
from sparsim import api
from sparsim.api import save_workload
from sparsim.cli import main
from workloads.errors import ImportNote, InputError, parse_decimal, printable, shown
from workloads.onnx_import import import_onnx, read_onnx
from workloads.resolve import load_workload
from workloads.saved import read_workload, workload_from_doc
from workloads.scalesim_csv import parse_topology
from workloads.sparsity_spec import parse_sparsity
from workloads.specs import build_workload, parse_shape
from workloads.state_dict import import_state_dict, load_tensors

# the fuzz makes importers guess and skip a lot; those notes are expected, not news
pytestmark = [
    pytest.mark.filterwarnings("ignore::workloads.errors.ImportNote"),
    pytest.mark.filterwarnings("ignore::workloads.onnx_import.UnsupportedOpWarning"),
]
MEMORY_CAP_BYTES = 2**30
CASE_SECONDS = 30
MAX_STDERR_BYTES = 2048
ROOT = Path(__file__).resolve().parent.parent

# modest in CI (the whole file well under a minute); the "thorough" profile runs 1,000 each
EXAMPLES = 40 if settings.default.max_examples <= 100 else settings.default.max_examples
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP_BYTES, MEMORY_CAP_BYTES))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad_corpus")
    return folder, build_corpus(folder)


# Runs the light cases in one capped interpreter; one JSON line per case.
RUNNER = r"""
import contextlib, io, json, sys, time, traceback, warnings
from sparsim.cli import main
for argv in json.loads(sys.stdin.read()):
    err, out = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            rc = main(argv)
    except BaseException:
        rc, tb = "raised", traceback.format_exc()
        err.write(tb)
    print(json.dumps({"rc": rc, "stderr": err.getvalue(), "seconds": time.perf_counter() - t0}))
    sys.stdout.flush()
"""


def _check(case, rc, stderr: str, seconds: float) -> None:
    allowed = {0, 2} if case.may_succeed else {2}
    assert rc in allowed, (case.name, rc, stderr[-600:])
    assert "Traceback" not in stderr, (case.name, stderr[-600:])
    assert len(stderr.encode()) < MAX_STDERR_BYTES, (case.name, len(stderr), stderr[:300])
    assert seconds < CASE_SECONDS, (case.name, seconds)
    if rc == 2:
        assert "sparsim: error:" in stderr, (case.name, stderr)


def test_corpus_light_cases_exit_2_in_one_capped_process(corpus):
    folder, cases = corpus
    light = [c for c in cases if not c.heavy]
    assert len(light) > 80
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=json.dumps([list(c.argv) for c in light]),
        capture_output=True,
        text=True,
        cwd=folder,
        preexec_fn=_cap_memory,
        timeout=CASE_SECONDS * len(light),
    )
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(rows) == len(light), proc.stderr[-2000:]
    for case, row in zip(light, rows, strict=True):
        _check(case, row["rc"], row["stderr"], row["seconds"])


@pytest.mark.parametrize("index", range(12))
def test_corpus_heavy_case_exits_2_under_memory_and_time_caps(corpus, index):
    folder, cases = corpus
    heavy = [c for c in cases if c.heavy]
    if index >= len(heavy):
        assert len(heavy) >= 9  # the corpus keeps its bombs, pipes and paths out of bounds
        return
    case = heavy[index]
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "sparsim", *case.argv],
        capture_output=True,
        cwd=folder,
        preexec_fn=_cap_memory,
        timeout=CASE_SECONDS,
    )
    _check(case, proc.returncode, proc.stderr.decode(errors="replace"), time.perf_counter() - t0)


# --- promises that used to break -------------------------------------------------------------


def test_global_sparsity_works_on_shape_only_workloads(tmp_path):
    wl = api.load_workload("resnet50", "global:0.5")
    assert wl.sparsity == "global:0.5"
    assert all(lw.density == 0.5 for lw in wl.layers if lw.layer.has_weights)
    topo = tmp_path / "t.csv"
    topo.write_text("Layer, M, N, K,\nfc1, 8, 16, 32,\nfc2, 8, 32, 16,\n")
    assert [lw.density for lw in api.load_workload(topo, "global:0.75").layers] == [0.25, 0.25]
    assert (
        main(["run", "--arch", "edge", "--workload", "resnet50", "--sparsity", "global:0.5"]) == 0
    )


def test_inline_shape_too_big_for_random_weights_runs_shape_only_with_a_note():
    with pytest.warns(ImportNote, match="shape-only"):
        wl = load_workload("gemm:1x60000x60000", parse_sparsity("nm:2:4"))
    (lw,) = wl.layers
    assert lw.weights is None and lw.mask is None
    assert str(lw.pattern) == "2:4" and lw.density == 0.5
    small = load_workload("gemm:8x64x64", parse_sparsity("nm:2:4")).layers[0]
    assert small.mask is not None  # below the limit: real random weights, real mask


def test_state_dict_input_shape_and_depthwise_from_the_channels_before(tmp_path):
    rng = np.random.default_rng(0)
    tensors = {
        "0.weight": rng.standard_normal((32, 3, 3, 3)).astype(np.float32),
        "1.weight": rng.standard_normal((32, 1, 3, 3)).astype(np.float32),  # depthwise
        "2.weight": rng.standard_normal((64, 32, 1, 1)).astype(np.float32),
    }
    with pytest.warns(ImportNote, match="one output position"):
        old = import_state_dict(tensors)
    assert old.layers[0].layer.gemm().m == 1
    with pytest.warns(ImportNote) as notes:
        wl = import_state_dict(tensors, input_shape=(3, 56, 56))
    text = " ".join(str(n.message) for n in notes)
    assert "56x56" in text and "depthwise" in text
    first, dw, pw = (lw.layer for lw in wl.layers)
    assert (first.out_h, first.out_w, first.c) == (56, 56, 3)
    assert dw.groups == 32 and dw.c == dw.k == 32 and dw.is_depthwise
    assert pw.groups == 1 and pw.gemm().m == 56 * 56
    path = tmp_path / "m.npz"
    np.savez(path, **tensors)
    via_api = api.load_workload(path, input_shape=(3, 56, 56))
    assert [lw.layer for lw in via_api.layers] == [lw.layer for lw in wl.layers]
    with pytest.raises(InputError, match=r"input.shape"):
        api.load_workload("resnet50", input_shape=(3, 224, 224))
    with pytest.raises(InputError, match="input_shape"):
        api.load_workload(path, input_shape=(0, 5))


def _relu_net(path: Path) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    w1 = numpy_helper.from_array(np.eye(8, dtype=np.float32), "w1")
    w2 = numpy_helper.from_array(np.ones((8, 4), np.float32), "w2")
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1"),
        helper.make_node("Relu", ["h"], ["r"], name="relu"),
        helper.make_node("MatMul", ["r", "w2"], ["y"], name="fc2"),
    ]
    graph = helper.make_graph(nodes, "g", [x], [y], initializer=[w1, w2])
    onnx.save(helper.make_model(graph), str(path))


def test_onnx_sample_inputs_through_load_workload(tmp_path):
    model = tmp_path / "net.onnx"
    _relu_net(model)
    with pytest.warns(ImportNote, match="not measured"):
        unmeasured = api.load_workload(model)
    assert [lw.activation_density for lw in unmeasured.layers] == [1.0, 1.0]
    sample = np.array([[1, -1, 2, -2, 3, -3, 4, -4]], np.float32)  # ReLU keeps half
    np.savez(tmp_path / "in.npz", x=sample)
    measured = api.load_workload(model, inputs=tmp_path / "in.npz")
    assert [lw.activation_density for lw in measured.layers] == [1.0, 0.5]
    assert api.load_workload(model, inputs={"x": sample}).layers[1].activation_density == 0.5
    np.savez(tmp_path / "bad.npz", z=sample)
    with pytest.raises(InputError, match="input names"):
        api.load_workload(model, inputs=tmp_path / "bad.npz")
    np.savez(tmp_path / "shape.npz", x=np.ones((3, 5), np.float32))
    with pytest.raises(InputError, match="sample inputs"):
        api.load_workload(model, inputs=tmp_path / "shape.npz")
    with pytest.raises(InputError, match="ONNX"):
        api.load_workload("gemm:8x8x8", inputs=tmp_path / "in.npz")


def test_messages_bound_and_escape_values():
    bomb: list = ["x"]
    for _ in range(30):
        bomb = [bomb] * 10  # 10^30 leaves if expanded
    text = str(InputError("f.yaml", "name", bomb, "a string"))
    assert len(text) < 400
    assert len(shown(10**5000)) < 100 and "digits" in shown(10**5000)
    assert shown("a\x1b[2Jb\u202e") == "'a\\x1b[2Jb\\u202e'"
    assert printable("ok\x07name") == "ok\\x07name"
    assert parse_decimal("\u00b2") is None and parse_decimal("\u0663") is None
    assert parse_decimal(" 42 ") == 42 and parse_decimal("9" * 31) is None


def test_layer_names_from_files_come_out_escaped(tmp_path, capsys):
    topo = tmp_path / "t.csv"
    topo.write_text("Layer, M, N, K,\nf\x1b[2Jc, 8, 8, 8,\n")
    wl = api.load_workload(topo)
    assert wl.layers[0].name == "f\\x1b[2Jc"
    assert main(["prune", str(topo), "--method", "nm:2:4"]) == 0
    assert "\x1b" not in capsys.readouterr().out


# --- hypothesis fuzz: only InputError (or success) comes out of a loader ----------------------


def _only_input_errors(load, *args) -> None:
    try:
        load(*args)
    except InputError as err:
        assert len(str(err)) < MAX_STDERR_BYTES


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def _mutate(data: bytes, cuts: list[tuple[int, int, bytes]]) -> bytes:
    for at, length, insert in cuts:
        at %= len(data) + 1
        data = data[:at] + insert + data[at + length :]
    return data


MUTATIONS = st.lists(
    st.tuples(
        st.integers(0, 10**6),
        st.integers(0, 8),
        st.one_of(
            st.binary(max_size=8),
            st.sampled_from(
                [b"%", b"\xe9", b"\x00", b"\xc2\xb2", b"[" * 80, b"9" * 60, b"&a ", b"*a", b"{"]
            ),
            st.text(max_size=6).map(str.encode),
        ),
    ),
    min_size=1,
    max_size=4,
)
YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@FUZZ
@given(cuts=MUTATIONS)
def test_fuzz_arch_yaml_bytes(fuzz_dir, cuts):
    path = fuzz_dir / "arch.yaml"
    path.write_bytes(_mutate(GOOD_YAML.encode(), cuts))
    _only_input_errors(load_arch, path)


@FUZZ
@given(
    section=st.sampled_from(["pe_array", "memory", "top"]),
    key=st.text(max_size=14),
    value=YAML_VALUES,
)
def test_fuzz_arch_yaml_values(fuzz_dir, section, key, value):
    doc = yaml.safe_load(GOOD_YAML)
    target = doc if section == "top" else doc[section]
    keys = [*target, key]
    target[keys[hash(key) % len(keys)]] = value
    path = fuzz_dir / "values.yaml"
    path.write_text(yaml.safe_dump(doc))
    _only_input_errors(load_arch, path)


@FUZZ
@given(cuts=MUTATIONS)
def test_fuzz_scalesim_cfg(fuzz_dir, cuts):
    path = fuzz_dir / "arch.cfg"
    path.write_bytes(_mutate(GOOD_CFG.encode(), cuts))
    _only_input_errors(load_arch, path)


FIELD = st.one_of(
    st.integers(-3, 300).map(str),
    st.text(alphabet="0123456789\u00b2\u0663:x -", max_size=8),
    st.text(max_size=5),
)


@FUZZ
@given(rows=st.lists(st.lists(FIELD, max_size=10), min_size=1, max_size=4), conv=st.booleans())
def test_fuzz_topology_csv(rows, conv):
    header = CSV_HEADER if conv else "Layer, M, N, K,"
    text = header + "\n" + "\n".join(", ".join(r) + "," for r in rows)
    _only_input_errors(parse_topology, text, "fuzz.csv")


@pytest.fixture(scope="module")
def saved_doc(tmp_path_factory):
    folder = tmp_path_factory.mktemp("saved")
    layers = [parse_shape("gemm:4x8x8"), parse_shape("conv:6x6x4:3x3x8")]
    wl = build_workload(layers, parse_sparsity("nm:2:4"), seed=1)
    save_workload(wl, folder / "wl.json")
    return folder, json.loads((folder / "wl.json").read_text())


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, (*prefix, i))


@FUZZ
@given(pick=st.integers(0, 10**6), value=YAML_VALUES, data=st.data())
def test_fuzz_saved_json(saved_doc, pick, value, data):
    _, doc = saved_doc
    doc = json.loads(json.dumps(doc))
    paths = [p for p in _paths(doc) if p]
    path = paths[pick % len(paths)]
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    arrays = {f"layer{i}.{kind}": np.ones((8, 8), bool) for i in range(2) for kind in ("mask",)}
    if data.draw(st.booleans()):
        arrays["layer0.weights"] = np.zeros(data.draw(st.sampled_from([(8, 8), (0,), (8, 4)])))
    _only_input_errors(workload_from_doc, doc, arrays, "fuzz.json")


@FUZZ
@given(cuts=MUTATIONS, which=st.sampled_from(["wl.json", "wl.npz"]))
def test_fuzz_saved_files(saved_doc, fuzz_dir, cuts, which):
    folder, _ = saved_doc
    target = fuzz_dir / "saved"
    target.mkdir(exist_ok=True)
    for name in ("wl.json", "wl.npz"):
        raw = (folder / name).read_bytes()
        (target / name).write_bytes(_mutate(raw, cuts) if name == which else raw)
    _only_input_errors(read_workload, target / "wl.json")


TENSORS = st.dictionaries(
    st.text(max_size=6).map(lambda s: s + ".weight") | st.text(max_size=8),
    st.tuples(
        st.lists(st.integers(0, 5), min_size=0, max_size=4),
        st.sampled_from([np.float32, np.int8, np.float16, np.bool_, np.complex64, np.uint8]),
    ),
    max_size=4,
)


@FUZZ
@given(tensors=TENSORS, shape=st.none() | st.tuples(st.integers(-1, 9), st.integers(-1, 9)))
def test_fuzz_state_dicts(tensors, shape):
    arrays = {k: np.ones(tuple(s), dtype=t) for k, (s, t) in tensors.items()}
    _only_input_errors(lambda: import_state_dict(arrays, input_shape=shape))


@FUZZ
@given(cuts=MUTATIONS, suffix=st.sampled_from([".npz", ".safetensors"]))
def test_fuzz_state_dict_files(fuzz_dir, cuts, suffix):
    path = fuzz_dir / f"sd{suffix}"
    tensors = {"fc.weight": np.arange(16, dtype=np.float32).reshape(4, 4)}
    if suffix == ".npz":
        buf = io.BytesIO()
        np.savez(buf, **tensors)
        raw = buf.getvalue()
    else:
        from safetensors.numpy import save

        raw = save(tensors)
    path.write_bytes(_mutate(raw, cuts))
    _only_input_errors(lambda: import_state_dict(load_tensors(path)))


ONNX_OPS = st.sampled_from(["Conv", "MatMul", "Gemm", "ConvInteger", "QLinearMatMul", "Relu"])


@FUZZ
@given(
    op=ONNX_OPS,
    x_shape=st.lists(st.integers(0, 6), min_size=1, max_size=5),
    w_shape=st.lists(st.integers(0, 6), min_size=1, max_size=5),
    n_inputs=st.integers(0, 4),
    attrs=st.dictionaries(
        st.sampled_from(["group", "strides", "pads", "dilations", "transB", "auto_pad"]),
        st.one_of(st.integers(-2, 4), st.lists(st.integers(-1, 3), min_size=1, max_size=5)),
        max_size=3,
    ),
    short=st.booleans(),
)
def test_fuzz_onnx_models(op, x_shape, w_shape, n_inputs, attrs, short):
    assume(not (op == "Relu" and n_inputs > 1))
    w = numpy_helper.from_array(np.ones(w_shape, np.float32), "w")
    if short:
        w.raw_data = w.raw_data[: len(w.raw_data) // 2]
    names = ["x", "w", "b", "z"][:n_inputs]
    clean = {k: v for k, v in attrs.items() if k != "auto_pad"}
    node = helper.make_node(op, names, ["y"], name="n", **clean)
    if "auto_pad" in attrs:
        node.attribute.append(helper.make_attribute("auto_pad", "SAME_UPPER"))
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[w],
    )
    _only_input_errors(lambda: import_onnx(helper.make_model(graph), source="fuzz.onnx"))


@FUZZ
@given(cuts=MUTATIONS)
def test_fuzz_onnx_bytes(fuzz_dir, cuts):
    model = fuzz_dir / "net.onnx"
    _relu_net(model)
    model.write_bytes(_mutate(model.read_bytes(), cuts))
    _only_input_errors(read_onnx, model)


CLI_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["-1", "0", "nan", "9" * 40, "\u00b2", "\x1b[2J", "%s", ""]),
)
WORKLOADS = st.one_of(
    st.builds(
        lambda a, b, c: f"gemm:{a}x{b}x{c}",
        *[st.text(alphabet="0123456789\u00b2\u0663", min_size=1, max_size=3)] * 3,
    ),
    st.sampled_from(["conv:8x8x4:3x3x8", "train:gemm:8x8x8", "x.onnx", "y.json"]),
    CLI_TEXT,
)


@settings(FUZZ, max_examples=max(25, EXAMPLES // 4))
@given(
    command=st.sampled_from(["run", "prune"]),
    workload=WORKLOADS,
    sparsity=st.one_of(st.sampled_from(["nm:2:4", "global:0.5", "block:2:0.5+act:0.2"]), CLI_TEXT),
    flag=st.sampled_from(["--batch", "--seed", "--arch", "--dataflow", "--min-density", "--bogus"]),
    value=CLI_TEXT,
)
def test_fuzz_cli_strings(capsys, command, workload, sparsity, flag, value):
    if command == "prune":
        argv = ["prune", workload, "--method", sparsity]
        assume(flag not in ("--arch", "--dataflow"))
    else:
        argv = ["run", "--workload", workload, "--sparsity", sparsity]
        assume(flag != "--min-density")
    rc = main([*argv, flag, value])
    err = capsys.readouterr().err
    assert rc in (0, 2), err
    assert "Traceback" not in err and len(err.encode()) < MAX_STDERR_BYTES


def test_npz_reader_refuses_a_member_shorter_than_its_header(tmp_path):
    buf = io.BytesIO()
    np.save(buf, np.ones(1000, np.float32))
    with zipfile.ZipFile(tmp_path / "a.npz", "w") as zf:
        zf.writestr("fc.weight.npy", buf.getvalue()[:200])
    with pytest.raises(InputError, match="not truncated"):
        load_tensors(tmp_path / "a.npz")
