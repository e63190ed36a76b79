"""ONNX models as workloads: Conv (grouped, depthwise, 1-D), Gemm, MatMul and their
quantized forms, with shapes from ONNX shape inference and weights from initializers.

- Weights come in GEMM view: a Conv's (K, C/G, R, S) becomes (G, R*S*C/G, K/G)
  with the channel innermost (DESIGN.md); a Gemm/MatMul's B is (K, N).
- The mask is where the stored weights are nonzero (for quantized weights:
  differ from the zero point), so a model pruned offline keeps its real
  pattern; `pattern` is the finest N:M it satisfies along K.
- A MatMul of two activations (attention) becomes a Gemm without weights,
  batched over the leading dimensions (`groups`).
- Dimensions shape inference can't fix (a symbolic batch) count as 1;
  `sparsim run --batch` scales them.
- Ops that do no MACs (activations, pooling, norms, adds, reshapes, softmax,
  ...) are passed through for the graph; any other op is reported with a
  `UnsupportedOpWarning` naming the op and the node, and left out.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from workloads.errors import ImportNote, WorkloadError, note, printable
from workloads.graph import GraphBuilder, Tensor
from workloads.inputs import confined, regular_file
from workloads.layers import Conv2d, Gemm, Layer, conv_weight_gemm_view, renamed
from workloads.workload import LayerWorkload, Workload

if TYPE_CHECKING:
    import onnx


class UnsupportedOpWarning(ImportNote):
    """An op that does MACs the importer does not model; it is left out of the workload."""


# Ops that do no multiply-accumulates worth a GEMM: they only carry the graph along.
# fmt: off
MAC_FREE_OPS = frozenset({
    "Abs", "Add", "And", "ArgMax", "ArgMin", "AveragePool", "BatchNormalization", "Cast",
    "CastLike", "Ceil", "Celu", "Clip", "Concat", "Constant", "ConstantOfShape", "Cos",
    "CumSum", "DepthToSpace", "DequantizeLinear", "Div", "Dropout", "Elu", "Equal", "Erf",
    "Exp", "Expand", "EyeLike", "Flatten", "Floor", "Gather", "GatherElements", "GatherND",
    "Gelu", "Greater", "GreaterOrEqual", "GlobalAveragePool", "GlobalMaxPool",
    "GroupNormalization", "HardSigmoid", "HardSwish", "Identity", "InstanceNormalization",
    "IsInf", "IsNaN", "LayerNormalization", "LeakyRelu", "Less", "LessOrEqual", "Log",
    "LogSoftmax", "LpNormalization", "LRN", "Max", "MaxPool", "Mean", "Min", "Mish", "Mod",
    "Mul", "Neg", "Not", "OneHot", "Or", "Pad", "Pow", "PRelu", "QuantizeLinear", "Range",
    "Reciprocal", "ReduceL1", "ReduceL2", "ReduceLogSumExp", "ReduceMax", "ReduceMean",
    "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare", "Relu", "Reshape", "Resize",
    "Round", "ScatterElements", "ScatterND", "Selu", "Shape", "Shrink", "Sigmoid", "Sign",
    "Sin", "Size", "Slice", "Softmax", "Softplus", "Softsign", "SpaceToDepth", "Split", "Sqrt",
    "Squeeze", "Sub", "Sum", "Tanh", "ThresholdedRelu", "Tile", "TopK", "Transpose", "Trilu",
    "Unsqueeze", "Upsample", "Where", "Xor", "SimplifiedLayerNormalization",
    "SkipLayerNormalization"
})
# fmt: on

# ops that leave exact zeros in activations: their density is worth measuring
ZEROING_OPS = frozenset({"Relu", "Clip", "ThresholdedRelu", "Shrink", "HardSwish", "HardSigmoid"})
# op -> (activation input index, weight input index, weight zero-point index or None)
CONV_OPS = {"Conv": (0, 1, None), "ConvInteger": (0, 1, 3), "QLinearConv": (0, 3, 5)}
MATMUL_OPS = {"MatMul": (0, 1, None), "MatMulInteger": (0, 1, 3), "QLinearMatMul": (0, 3, 5)}
# ONNX TensorProto integer data types -> the widths sparsim models (INT4 = 22,
# UINT4 = 21, INT8 = 3, UINT8 = 2, INT16 = 5, UINT16 = 4)
_INT_BITS = {22: 4, 21: 4, 3: 8, 2: 8, 5: 16, 4: 16}
# ops whose output carries its first input's values at their stored width: a
# QDQ model's DequantizeLinear (its input is the quantized tensor) and layout ops
_WIDTH_THROUGH_OPS = frozenset(
    {"DequantizeLinear", "Identity", "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze"}
)
# ops that turn a constant into another constant (weights stored quantized or transposed)
_CONST_OPS = frozenset({"Identity", "Cast", "DequantizeLinear", "Transpose", "Constant"})


@dataclass(frozen=True, slots=True, eq=False)
class _Model:
    """Shapes and constants of an inferred ONNX graph (built by `_index`)."""

    source: str
    consts: dict[str, np.ndarray]
    producer: dict[str, onnx.NodeProto]
    shapes: dict[str, list[int | None]]
    elem_types: dict[str, int]  # tensor name -> ONNX TensorProto data type

    def stored_bits(self, name: str) -> int | None:
        """The width `name` is stored at when it is an integer tensor, looking
        through DequantizeLinear (QDQ models) and layout-only ops; None for
        floating-point tensors (the arch's width applies) and unknown types."""
        for _ in range(64):  # a chain of layout ops, bounded
            node = self.producer.get(name)
            if node is not None and node.op_type in _WIDTH_THROUGH_OPS and node.input:
                name = node.input[0]
                continue
            return _INT_BITS.get(self.elem_types.get(name, 0))
        return None

    def const(self, name: str) -> np.ndarray | None:
        """The value of `name` if it is a constant (through Identity/Cast/Transpose/...)."""
        if name in self.consts:
            return self.consts[name]
        node = self.producer.get(name)
        if node is None or node.op_type not in _CONST_OPS:
            return None
        from onnx import helper, numpy_helper

        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Constant":
            value = attrs.get("value")
            return None if value is None else numpy_helper.to_array(value)
        x = self.const(node.input[0])
        if x is None:
            return None
        if node.op_type == "Transpose":
            return np.transpose(x, attrs.get("perm"))
        if node.op_type == "DequantizeLinear":  # weights stored quantized: (x - zero) * scale
            scale = self.const(node.input[1])
            zero = self.const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
            if scale is None:
                return None
            shape = [1] * x.ndim
            if np.ndim(scale) == 1 and x.ndim > 1:
                shape[attrs.get("axis", 1) % x.ndim] = -1
            zero_f = 0.0 if zero is None else np.asarray(zero, np.float64).reshape(shape)
            deq = (x.astype(np.float64) - zero_f) * np.asarray(scale, np.float64).reshape(shape)
            return deq.astype(np.float32)
        return x

    def shape(self, name: str, node: str) -> list[int] | None:
        dims = self.shapes.get(name)
        if dims is None:
            return None
        if any(d is None or d == 0 for d in dims[1:]):
            warnings.warn(
                f"{self.source}: node {node!r}: input {name!r} has unknown dimensions {dims}; "
                "the node is left out",
                UnsupportedOpWarning,
                stacklevel=4,
            )
            return None
        return [d if d else 1 for d in dims]  # a symbolic leading (batch) dimension counts as 1


def _index(model: onnx.ModelProto, source: str) -> _Model:
    from onnx import numpy_helper

    graph = model.graph
    consts = {}
    for init in graph.initializer:
        try:
            consts[init.name] = numpy_helper.to_array(init)
        except Exception as err:  # short or corrupt data raises ValueError, TypeError, ...
            raise WorkloadError(
                source,
                f"initializer {init.name!r}",
                f"dims {list(init.dims)}, data type {init.data_type}",
                f"data matching its dims and type ({type(err).__name__}: "
                f"{(str(err).splitlines() or [''])[0]})",
            ) from None
    shapes: dict[str, list[int | None]] = {}
    for vi in [*graph.input, *graph.value_info, *graph.output]:
        tt = vi.type.tensor_type
        if tt.HasField("shape"):
            shapes[vi.name] = [
                d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim
            ]
    shapes.update({name: list(arr.shape) for name, arr in consts.items()})
    producer = {out: node for node in graph.node for out in node.output}
    elem_types = {
        vi.name: vi.type.tensor_type.elem_type
        for vi in [*graph.input, *graph.value_info, *graph.output]
    }
    elem_types.update({init.name: init.data_type for init in graph.initializer})
    return _Model(source, consts, producer, shapes, elem_types)


def _attrs(node: onnx.NodeProto) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _weight_mask(w: np.ndarray, zero_point: np.ndarray | None) -> np.ndarray:
    if zero_point is None:
        return w != 0
    return w != np.asarray(zero_point).reshape(-1, *([1] * (w.ndim - 1)))[: w.shape[0]]


def _same_pads(size: int, kernel: int, stride: int, dilation: int, upper: bool) -> tuple[int, int]:
    total = max((math.ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    small = total // 2
    return (small, total - small) if upper else (total - small, small)


def _conv(
    model: _Model, node: onnx.NodeProto, name: str
) -> tuple[Layer, np.ndarray | None, np.ndarray | None] | None:
    xi, wi, zpi = CONV_OPS[node.op_type]
    x_shape = model.shape(node.input[xi], name)
    w = model.const(node.input[wi])
    w_shape = list(w.shape) if w is not None else model.shape(node.input[wi], name)
    if x_shape is None or w_shape is None:
        return None
    if len(x_shape) not in (3, 4):
        warnings.warn(
            f"{model.source}: op {node.op_type} at node {name!r} is {len(x_shape) - 2}-D; "
            "only 1-D and 2-D convolutions are supported, the node is left out",
            UnsupportedOpWarning,
            stacklevel=3,
        )
        return None
    a = _attrs(node)
    one_d = len(x_shape) == 3
    if one_d:  # (N, C, L) as a 1 x L image
        x_shape = [x_shape[0], x_shape[1], 1, x_shape[2]]
        w_shape = [w_shape[0], w_shape[1], 1, w_shape[2]]
        w = None if w is None else w[:, :, None, :]
    batch, c, h, wd = x_shape
    k, _, r, s = w_shape
    strides = list(a.get("strides", [1] * (2 - one_d)))
    dilations = list(a.get("dilations", [1] * (2 - one_d)))
    pads = list(a.get("pads", [0] * (4 - 2 * one_d)))
    if one_d:
        strides, dilations, pads = [1, *strides], [1, *dilations], [0, pads[0], 0, pads[1]]
    auto_pad = a.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        upper = auto_pad == "SAME_UPPER"
        top, bottom = _same_pads(h, r, strides[0], dilations[0], upper)
        left, right = _same_pads(wd, s, strides[1], dilations[1], upper)
        pads = [top, left, bottom, right]
    elif auto_pad == "VALID":
        pads = [0, 0, 0, 0]
    groups = int(a.get("group", 1))
    layer = Conv2d(
        name, h=h, w=wd, c=c, r=r, s=s, k=k, stride=(strides[0], strides[1]),
        padding=(pads[0], pads[1], pads[2], pads[3]), batch=batch, groups=groups,
        dilation=(dilations[0], dilations[1]),
    )  # fmt: skip
    if w is None:
        return layer, None, None
    zp = model.const(node.input[zpi]) if zpi is not None and len(node.input) > zpi else None
    mask = _weight_mask(w, zp)
    return layer, conv_weight_gemm_view(w, groups), conv_weight_gemm_view(mask, groups)


def _operand_bits(model: _Model, node: onnx.NodeProto) -> tuple[int | None, int | None]:
    """(weight bits, input bits) a quantized layer stores its operands at: the
    integer types of a ConvInteger/QLinear*/MatMulInteger's operands or of the
    tensors a QDQ model dequantizes into a float Conv/Gemm/MatMul. A MatMul of
    two activations has no weight operand: its second input counts as weights
    only for the width when it is a constant."""
    if node.op_type in CONV_OPS:
        xi, wi, _ = CONV_OPS[node.op_type]
    elif node.op_type == "Gemm":
        xi, wi = 0, 1
    else:
        xi, wi, _ = MATMUL_OPS[node.op_type]
    if node.op_type in MATMUL_OPS and model.const(node.input[xi]) is not None:
        xi, wi = wi, xi  # W @ X: the constant is the weight operand
    return model.stored_bits(node.input[wi]), model.stored_bits(node.input[xi])


def _matmul_dims(a: list[int], b: list[int]) -> tuple[int, int, int, list[int]]:
    """(M, N, K, broadcast batch dims) of numpy-style A @ B."""
    a = [1, *a] if len(a) == 1 else a
    b = [*b, 1] if len(b) == 1 else b
    batch = list(np.broadcast_shapes(tuple(a[:-2]), tuple(b[:-2])))
    return a[-2], b[-1], a[-1], batch


def _matmul(
    model: _Model, node: onnx.NodeProto, name: str
) -> tuple[Layer, np.ndarray | None, np.ndarray | None] | None:
    if node.op_type == "Gemm":
        ai, bi, zpi = 0, 1, None
    else:
        ai, bi, zpi = MATMUL_OPS[node.op_type]
    wa, wb = model.const(node.input[ai]), model.const(node.input[bi])
    a_shape = list(wa.shape) if wa is not None else model.shape(node.input[ai], name)
    b_shape = list(wb.shape) if wb is not None else model.shape(node.input[bi], name)
    if a_shape is None or b_shape is None:
        return None
    if node.op_type == "Gemm":
        attrs = _attrs(node)
        if attrs.get("transA", 0):
            a_shape, wa = a_shape[::-1], None if wa is None else wa.T
        if attrs.get("transB", 0):
            b_shape, wb = b_shape[::-1], None if wb is None else wb.T
    m, n, k, batch = _matmul_dims(a_shape, b_shape)
    zp = model.const(node.input[zpi]) if zpi is not None and len(node.input) > zpi else None
    if wb is not None and wb.ndim == 2 and wa is None:  # X @ W: the usual linear layer
        rows = m * math.prod(batch)
        return Gemm(name, m=rows, n=n, k=k), wb, _weight_mask(wb.T, zp).T
    if (
        wa is not None and wa.ndim == 2 and wb is None
    ):  # W @ X: as (X^T W^T), W^T in the weight slot
        cols = n * math.prod(batch)
        return Gemm(name, m=cols, n=m, k=k), wa.T, wa.T != 0
    groups = math.prod(batch)
    return Gemm(name, m=m, n=n, k=k, groups=groups, has_weights=False), None, None


def import_onnx(
    model: onnx.ModelProto,
    *,
    source: str = "<onnx>",
    name: str | None = None,
    sample_inputs: Mapping[str, np.ndarray] | None = None,
) -> Workload:
    """The workload of an ONNX model (see the module docstring).

    With `sample_inputs` (feeds for the graph inputs) the model is run with
    ONNX's reference evaluator and each layer's `activation_density` is the
    measured nonzero fraction of its input (ReLU zeros).
    """
    import onnx

    _check_text(model, source)
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception as err:  # inference is best effort; declared shapes still count
        reason = (str(err).splitlines() or [""])[0]
        note(f"{source}: shape inference failed ({reason}); using declared shapes")
        inferred = model
    m = _index(inferred, source)
    builder = GraphBuilder()
    tensors: dict[str, Tensor] = {}
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    inputs_of: dict[str, str] = {}
    widths: dict[str, tuple[int | None, int | None]] = {}  # layer -> (weight, input) bits
    for index, node in enumerate(inferred.graph.node):
        node_name = printable(node.name or f"{node.op_type}_{index}", 200)
        reads = [tensors.get(i, frozenset()) for i in node.input if i]
        merged: Tensor = frozenset().union(*reads)
        op = node.op_type
        made = None
        if op in CONV_OPS or op in MATMUL_OPS or op == "Gemm":
            _check_inputs(source, node, node_name)
            try:
                made = _conv(m, node, node_name) if op in CONV_OPS else _matmul(m, node, node_name)
            except WorkloadError:
                raise
            except (
                ValueError,
                IndexError,
                TypeError,
                KeyError,
                ZeroDivisionError,
                RecursionError,
            ) as err:
                # shapes or attributes that make no layer (a kernel wider than its input,
                # strides of the wrong length, weights that disagree with the input)
                raise WorkloadError(
                    source, f"node {node_name!r} ({op})", str(err), "a valid layer"
                ) from None
        elif op not in MAC_FREE_OPS:
            warnings.warn(
                f"{source}: op {op} at node {node_name!r} is not supported; it is left out "
                "of the workload (its MACs are not counted)",
                UnsupportedOpWarning,
                stacklevel=2,
            )
        if made is None:
            for out in node.output:
                tensors[out] = merged
            continue
        layer, weights, mask = made
        if layer.name in builder.graph:  # ONNX node names need not be unique
            layer = renamed(layer, f"{layer.name}_{index}")
        out_tensor = builder.add(layer, merged)
        for out in node.output:
            tensors[out] = out_tensor
        if weights is not None:
            arrays[layer.name] = (weights, mask)
        inputs_of[layer.name] = node.input[0]
        widths[layer.name] = _operand_bits(m, node)
    if not builder.layers:
        raise WorkloadError(
            source,
            "layers",
            sorted({n.op_type for n in inferred.graph.node}),
            "a model with at least one supported layer (Conv, ConvInteger, QLinearConv, Gemm, "
            "MatMul, MatMulInteger, QLinearMatMul)",
        )
    if sample_inputs is not None:
        densities = _measure(inferred, sample_inputs, inputs_of, source)
    else:
        densities = {}
        zeroing = sorted({n.op_type for n in inferred.graph.node} & ZEROING_OPS)
        if zeroing:
            note(
                f"{source}: activation density not measured (1.0 assumed for every layer) though "
                f"the model has {', '.join(zeroing)}; give sample inputs (--inputs sample.npz) "
                "to measure it"
            )
    layers = []
    stored = False
    for layer in builder.layers:
        act = densities.get(layer.name, 1.0)
        if layer.name in arrays:
            w, mask = arrays[layer.name]
            try:
                lw = LayerWorkload.from_weights(layer, w, mask, activation_density=act)
            except ValueError as err:  # weights that do not fit the layer's GEMM view
                raise WorkloadError(
                    source, f"node {layer.name!r} weights", f"shape {w.shape}", str(err)
                ) from None
            stored |= not mask.all()
        else:
            lw = LayerWorkload(layer, activation_density=act)
        weight_bits, input_bits = widths.get(layer.name, (None, None))
        layers.append(replace(lw, weight_bits=weight_bits, input_bits=input_bits))
    graph_name = printable(name or inferred.graph.name or Path(source).stem, 200)
    return Workload(
        graph_name, tuple(layers), sparsity="stored" if stored else "dense", graph=builder.graph
    )


def _check_text(model: onnx.ModelProto, source: str) -> None:
    """Names and op types must be text: protobuf hands invalid UTF-8 back as bytes."""
    graph = model.graph
    fields = [("graph name", graph.name)]
    for i, node in enumerate(graph.node):
        fields += [(f"node {i} op_type", node.op_type), (f"node {i} name", node.name)]
        fields += [(f"node {i} inputs", x) for x in node.input]
        fields += [(f"node {i} outputs", x) for x in node.output]
    for kind in ("initializer", "input", "output", "value_info"):
        fields += [(f"{kind} name", item.name) for item in getattr(graph, kind)]
    for field, value in fields:
        if not isinstance(value, str):
            raise WorkloadError(source, field, value, "UTF-8 text")


def _check_inputs(source: str, node: onnx.NodeProto, name: str) -> None:
    op = node.op_type
    if op in CONV_OPS:
        needed = CONV_OPS[op][:2]
    elif op in MATMUL_OPS:
        needed = MATMUL_OPS[op][:2]
    else:
        needed = (0, 1)
    if len(node.input) <= max(needed) or not all(node.input[i] for i in needed):
        raise WorkloadError(
            source,
            f"node {name!r} ({op}) inputs",
            list(node.input),
            f"inputs {', '.join(map(str, needed))} present (activation and weight)",
        )


def _measure(
    model: onnx.ModelProto,
    feeds: Mapping[str, np.ndarray],
    inputs_of: dict[str, str],
    source: str,
) -> dict[str, float]:
    """Nonzero fraction of each layer's activation input on `feeds` (reference evaluator)."""
    from onnx.reference import ReferenceEvaluator

    from workloads.activations import relu_density

    initializers = {init.name for init in model.graph.initializer}
    wanted = [vi.name for vi in model.graph.input if vi.name not in initializers]
    if sorted(feeds) != sorted(wanted):
        raise WorkloadError(
            "--inputs", "input names", sorted(feeds), f"the model's inputs: {', '.join(wanted)}"
        )
    names = sorted(set(inputs_of.values()))
    try:
        values = ReferenceEvaluator(model).run(names, dict(feeds))
    except Exception as err:  # the evaluator raises what its ops raise on bad feeds
        raise WorkloadError(
            "--inputs",
            "sample inputs",
            {k: f"{np.asarray(v).dtype}{list(np.shape(v))}" for k, v in feeds.items()},
            f"arrays {source} can run on ({type(err).__name__}: "
            f"{(str(err).splitlines() or [''])[0]})",
        ) from None
    by_tensor = {n: relu_density(v) for n, v in zip(names, values, strict=True)}
    return {layer: by_tensor[t] for layer, t in inputs_of.items()}


def _load_external(model: onnx.ModelProto, path: Path) -> None:
    """Initializers stored in files beside the model, read only from the model's folder."""
    from onnx import TensorProto
    from onnx.external_data_helper import load_external_data_for_tensor

    for init in model.graph.initializer:
        if init.data_location != TensorProto.EXTERNAL:
            continue
        info = {entry.key: entry.value for entry in init.external_data}
        field = f"initializer {init.name!r} location"
        confined(path.parent, info.get("location"), str(path), field)
        try:
            load_external_data_for_tensor(init, str(path.parent))
        except Exception as err:  # offsets past the end, unreadable files
            raise WorkloadError(
                str(path), field, info.get("location"), f"a readable data file ({err})"
            ) from None


def read_onnx(
    path: str | Path, *, sample_inputs: Mapping[str, np.ndarray] | None = None
) -> Workload:
    """Load an `.onnx` file (bad files raise WorkloadError naming the file)."""
    import onnx

    p = regular_file(path, "ONNX model")
    try:
        model = onnx.load(str(p), load_external_data=False)
    except Exception as err:  # protobuf raises several types on garbage input
        reason = (str(err).splitlines() or [""])[0]
        raise WorkloadError(str(p), "file", p.name, f"an ONNX model (protobuf): {reason}") from None
    if not model.ir_version or not model.HasField("graph"):
        raise WorkloadError(str(p), "file", p.name, "an ONNX model (protobuf with a graph)")
    _load_external(model, p)
    return import_onnx(model, source=str(p), name=p.stem, sample_inputs=sample_inputs)
