"""Layer IR: GEMM, conv (grouped, depthwise, dilated), attention matmuls, training passes.

GEMM naming follows DESIGN.md: `m` rows of the output, `n` columns of the
output, `k` the reduction. Weights of every layer are seen as a K x N matrix
(reduction along axis -2), activations as M x K. A conv lowers to that GEMM
by im2col: M = output pixels x batch, N = filters, K = R*S*C with the
channel innermost, so N:M groups run along input channels as on sparse
tensor cores.

Every layer offers the same small interface the simulator relies on:

- `gemm()`: the GEMM of ONE group;
- `groups`: how many independent GEMMs of that shape make up the layer (1 for
  most layers, G for a grouped conv, C for a depthwise conv, heads x batch for
  attention matmuls), so `macs == groups * gemm().macs`;
- `input_elements`, `weight_elements`, `output_elements`: the tensors as
  stored (what crosses DRAM; a conv's ifmap, not its im2col);
- `has_weights`: False when both operands are activations (nothing to prune);
- `pass_`: which training pass the GEMM belongs to (FORWARD for inference).
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass

import numpy as np

from workloads.window import InputWindow


@dataclass(frozen=True, slots=True)
class GemmShape:
    """Output is m x n; k is the reduction dimension."""

    m: int
    n: int
    k: int

    @property
    def macs(self) -> int:
        return self.m * self.n * self.k


class Pass(str, enum.Enum):
    """Training passes of a layer; each is a GEMM with its own reduction dimension."""

    FORWARD = "fwd"
    BACKWARD_DATA = "bwd_data"  # dX = dY W^T: W^T in the weight position, reduction over N
    BACKWARD_WEIGHT = "bwd_weight"  # dW = X^T dY: dY in the weight position, reduction over M

    def __str__(self) -> str:
        return self.value


def _positive(layer: object, **values: int) -> None:
    for field, value in values.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{layer}: {field} = {value!r}; allowed: an integer >= 1")


@dataclass(frozen=True, slots=True)
class Gemm:
    """A matrix multiply: a fully connected layer (M = batch x tokens) or, with
    `has_weights=False`, a product of two activations (batched over `groups`)."""

    name: str
    m: int
    n: int
    k: int
    groups: int = 1
    has_weights: bool = True

    def __post_init__(self) -> None:
        _positive(self.name, m=self.m, n=self.n, k=self.k, groups=self.groups)

    def gemm(self) -> GemmShape:
        return GemmShape(self.m, self.n, self.k)

    @property
    def macs(self) -> int:
        return self.groups * self.m * self.n * self.k

    @property
    def input_elements(self) -> int:
        """Elements of the activation tensor as stored (what crosses DRAM)."""
        return self.groups * self.m * self.k

    @property
    def weight_elements(self) -> int:
        return self.groups * self.k * self.n

    @property
    def output_elements(self) -> int:
        return self.groups * self.m * self.n

    @property
    def pass_(self) -> Pass:
        return Pass.FORWARD

    def lower_activations(self, activations: np.ndarray) -> np.ndarray:
        """The M x K activation matrix (already in GEMM form); (G, M, K) when grouped."""
        a = np.asarray(activations)
        if self.groups == 1:
            return a.reshape(self.m, self.k)
        return a.reshape(self.groups, self.m, self.k)


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, (int, np.integer)) else (int(v[0]), int(v[1]))


def _quad(v: int | tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    if isinstance(v, (int, np.integer)):
        return (v, v, v, v)
    if len(v) == 2:  # (pad_h, pad_w), symmetric
        return (int(v[0]), int(v[1]), int(v[0]), int(v[1]))
    if len(v) != 4:
        raise ValueError(f"padding = {v!r}; allowed: an int, (h, w) or (top, left, bottom, right)")
    return (int(v[0]), int(v[1]), int(v[2]), int(v[3]))


@dataclass(frozen=True, slots=True)
class Conv2d:
    """A 2-D convolution: ifmap h x w x c, k filters of r x s x (c / groups).

    `stride` and `dilation` are an int or (h, w); `padding` an int, (h, w) or
    (top, left, bottom, right). `groups == c == k` is a depthwise conv; each
    group is its own GEMM of M = batch*P*Q, N = k/groups, K = r*s*c/groups.
    """

    name: str
    h: int
    w: int
    c: int
    r: int
    s: int
    k: int
    stride: int | tuple[int, int] = 1
    padding: int | tuple[int, ...] = 0
    batch: int = 1
    groups: int = 1
    dilation: int | tuple[int, int] = 1

    def __post_init__(self) -> None:
        _positive(self.name, h=self.h, w=self.w, c=self.c, r=self.r, s=self.s, k=self.k)
        _positive(self.name, batch=self.batch, groups=self.groups)
        _positive(self.name, stride_h=self.strides[0], stride_w=self.strides[1])
        _positive(self.name, dilation_h=self.dilations[0], dilation_w=self.dilations[1])
        if min(self.pads) < 0:
            raise ValueError(f"{self.name}: padding = {self.padding!r}; allowed: >= 0")
        if self.c % self.groups or self.k % self.groups:
            raise ValueError(
                f"{self.name}: groups = {self.groups}; allowed: a divisor of c = {self.c} "
                f"and k = {self.k}"
            )
        if self.out_h < 1 or self.out_w < 1:
            raise ValueError(
                f"{self.name}: filter {self.r}x{self.s} (dilated) larger than the padded "
                f"ifmap {self.h}x{self.w}"
            )

    @property
    def strides(self) -> tuple[int, int]:
        return _pair(self.stride)

    @property
    def dilations(self) -> tuple[int, int]:
        return _pair(self.dilation)

    @property
    def pads(self) -> tuple[int, int, int, int]:
        """(top, left, bottom, right)."""
        return _quad(self.padding)

    @property
    def is_depthwise(self) -> bool:
        return self.groups > 1 and self.groups == self.c

    @property
    def out_h(self) -> int:
        top, _, bottom, _ = self.pads
        span = self.dilations[0] * (self.r - 1) + 1
        return (self.h + top + bottom - span) // self.strides[0] + 1

    @property
    def out_w(self) -> int:
        _, left, _, right = self.pads
        span = self.dilations[1] * (self.s - 1) + 1
        return (self.w + left + right - span) // self.strides[1] + 1

    def gemm(self) -> GemmShape:
        return GemmShape(
            self.batch * self.out_h * self.out_w,
            self.k // self.groups,
            self.r * self.s * (self.c // self.groups),
        )

    @property
    def macs(self) -> int:
        return self.groups * self.gemm().macs

    @property
    def input_elements(self) -> int:
        """Elements of the ifmap as stored; im2col's R*S-fold copies are made on chip."""
        return self.batch * self.h * self.w * self.c

    @property
    def weight_elements(self) -> int:
        return self.r * self.s * (self.c // self.groups) * self.k

    @property
    def output_elements(self) -> int:
        return self.batch * self.out_h * self.out_w * self.k

    @property
    def has_weights(self) -> bool:
        return True

    @property
    def pass_(self) -> Pass:
        return Pass.FORWARD

    def input_window(self) -> InputWindow:
        """One group's sliding window (what a tile of the GEMM reads of the ifmap)."""
        (sh, sw), (dh, dw) = self.strides, self.dilations
        return InputWindow(
            self.batch, self.out_h, self.out_w, self.c // self.groups, self.r, self.s,
            sh, sw, dh, dw,
        )  # fmt: skip

    def lower_activations(self, ifmap: np.ndarray) -> np.ndarray:
        """im2col: (batch, h, w, c) ifmap -> (batch*P*Q, R*S*C), channel innermost.

        With groups > 1: (groups, batch*P*Q, R*S*C/groups), group g taking
        channels g*C/G .. (g+1)*C/G - 1.
        """
        x = np.asarray(ifmap).reshape(self.batch, self.h, self.w, self.c)
        top, left, bottom, right = self.pads
        if any(self.pads):
            x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
        (sh, sw), (dh, dw) = self.strides, self.dilations
        p, q = self.out_h, self.out_w
        cols = np.empty((self.batch, p, q, self.r, self.s, self.c), x.dtype)
        for i in range(self.r):
            for j in range(self.s):
                cols[:, :, :, i, j, :] = x[
                    :,
                    i * dh : i * dh + sh * (p - 1) + 1 : sh,
                    j * dw : j * dw + sw * (q - 1) + 1 : sw,
                    :,
                ]
        rows = self.batch * p * q
        if self.groups == 1:
            return cols.reshape(rows, self.r * self.s * self.c)
        cg = self.c // self.groups
        grouped = cols.reshape(rows, self.r, self.s, self.groups, cg)
        return grouped.transpose(3, 0, 1, 2, 4).reshape(self.groups, rows, self.r * self.s * cg)


class AttentionKind(str, enum.Enum):
    QK = "qk"  # scores S = Q K^T: reduction over the head dimension
    AV = "av"  # context O = P V: reduction over the key/value sequence

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class AttentionMatmul:
    """One of the two activation-activation matmuls of multi-head attention.

    Per (batch, head): QK^T is (seq_q x head_dim) @ (head_dim x seq_kv), AV is
    (seq_q x seq_kv) @ (seq_kv x head_dim). Decode with a KV cache is seq_q = 1.
    Both operands are activations: weight pruning leaves them dense.
    """

    name: str
    kind: AttentionKind
    seq_q: int
    seq_kv: int
    head_dim: int
    heads: int
    batch: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", AttentionKind(self.kind))
        _positive(self.name, seq_q=self.seq_q, seq_kv=self.seq_kv, head_dim=self.head_dim)
        _positive(self.name, heads=self.heads, batch=self.batch)

    def gemm(self) -> GemmShape:
        if self.kind is AttentionKind.QK:
            return GemmShape(self.seq_q, self.seq_kv, self.head_dim)
        return GemmShape(self.seq_q, self.head_dim, self.seq_kv)

    @property
    def groups(self) -> int:
        return self.heads * self.batch

    @property
    def macs(self) -> int:
        return self.groups * self.gemm().macs

    @property
    def input_elements(self) -> int:
        g = self.gemm()
        return self.groups * g.m * g.k

    @property
    def weight_elements(self) -> int:
        g = self.gemm()
        return self.groups * g.k * g.n

    @property
    def output_elements(self) -> int:
        g = self.gemm()
        return self.groups * g.m * g.n

    @property
    def has_weights(self) -> bool:
        return False

    @property
    def pass_(self) -> Pass:
        return Pass.FORWARD


ForwardLayer = Gemm | Conv2d | AttentionMatmul


@dataclass(frozen=True, slots=True)
class PassLayer:
    """One training pass of a forward layer, as its own GEMM.

    For the forward GEMM Y (M x N) = X (M x K) @ W (K x N), per group:

    - FORWARD: (m, n, k) = (M, N, K), W in the weight position;
    - BACKWARD_DATA: dX = dY @ W^T, (m, n, k) = (M, K, N): W^T in the weight
      position, reduced over N (a conv's dX is col2im of this GEMM, which has
      the forward's MACs);
    - BACKWARD_WEIGHT: dW = X^T @ dY, (m, n, k) = (K, N, M): the output
      gradient dY in the weight position, reduced over M.
    """

    forward: ForwardLayer
    pass_: Pass

    def __post_init__(self) -> None:
        object.__setattr__(self, "pass_", Pass(self.pass_))
        if isinstance(self.forward, PassLayer):
            raise TypeError("a PassLayer wraps a forward layer, not another pass")

    @property
    def name(self) -> str:
        return f"{self.forward.name}/{self.pass_.value}"

    def gemm(self) -> GemmShape:
        f = self.forward.gemm()
        if self.pass_ is Pass.BACKWARD_DATA:
            return GemmShape(f.m, f.k, f.n)
        if self.pass_ is Pass.BACKWARD_WEIGHT:
            return GemmShape(f.k, f.n, f.m)
        return f

    @property
    def groups(self) -> int:
        return self.forward.groups

    @property
    def macs(self) -> int:
        return self.forward.macs

    @property
    def input_elements(self) -> int:
        """The stored streamed operand: X (fwd, bwd_weight) or dY (bwd_data)."""
        if self.pass_ is Pass.BACKWARD_DATA:
            return self.forward.output_elements
        return self.forward.input_elements

    @property
    def weight_elements(self) -> int:
        if self.pass_ is Pass.BACKWARD_WEIGHT:
            return self.forward.output_elements
        return self.forward.weight_elements

    @property
    def output_elements(self) -> int:
        if self.pass_ is Pass.BACKWARD_DATA:
            return self.forward.input_elements
        if self.pass_ is Pass.BACKWARD_WEIGHT:
            return self.forward.weight_elements
        return self.forward.output_elements

    @property
    def has_weights(self) -> bool:
        """W (or W^T) sits in the weight position of the fwd and bwd_data GEMMs only."""
        return self.forward.has_weights and self.pass_ is not Pass.BACKWARD_WEIGHT


Layer = Gemm | Conv2d | AttentionMatmul | PassLayer


def input_window(layer: Layer) -> InputWindow | None:
    """The sliding window of a layer whose input operand is a convolution's
    ifmap (a conv, its forward pass, or its backward-weight pass reading X^T);
    None when the input operand is a plain matrix (GEMM tiles are rectangles)."""
    if isinstance(layer, PassLayer):
        if layer.pass_ is Pass.BACKWARD_DATA:
            return None
        win = input_window(layer.forward)
        if win is not None and layer.pass_ is Pass.BACKWARD_WEIGHT:
            return dataclasses.replace(win, transposed=True)
        return win
    if isinstance(layer, Conv2d):
        return layer.input_window()
    return None


LAYER_TYPES: dict[str, type] = {
    "gemm": Gemm,
    "conv2d": Conv2d,
    "attention": AttentionMatmul,
    "pass": PassLayer,
}


def layer_type_name(layer: Layer) -> str:
    for key, cls in LAYER_TYPES.items():
        if isinstance(layer, cls):
            return key
    raise TypeError(f"not a layer: {type(layer).__name__}")


def with_batch(layer: Layer, batch: int, *, suffix: bool = True) -> Layer:
    """The layer with its batch multiplied by `batch` (a GEMM's M grows);
    `suffix` appends `@b{batch}` to its name."""
    if batch == 1:
        return layer
    if isinstance(layer, PassLayer):
        return PassLayer(with_batch(layer.forward, batch, suffix=suffix), layer.pass_)
    name = f"{layer.name}@b{batch}" if suffix else layer.name
    if isinstance(layer, Gemm):
        return dataclasses.replace(layer, m=layer.m * batch, name=name)
    if isinstance(layer, (Conv2d, AttentionMatmul)):
        return dataclasses.replace(layer, batch=layer.batch * batch, name=name)
    raise TypeError(f"no batch rule for {type(layer).__name__}")


def renamed(layer: Layer, name: str) -> Layer:
    if isinstance(layer, PassLayer):
        return PassLayer(renamed(layer.forward, name), layer.pass_)
    return dataclasses.replace(layer, name=name)


def conv_weight_gemm_view(w: np.ndarray, groups: int = 1) -> np.ndarray:
    """(K, C/G, R, S) conv weights (ONNX / PyTorch layout) -> GEMM view.

    (R*S*C/G, K) for groups == 1, else (G, R*S*C/G, K/G); the channel is
    innermost along the reduction, as `Conv2d.lower_activations` orders K.
    """
    k, cg, r, s = w.shape
    kg = k // groups
    view = w.reshape(groups, kg, cg, r, s).transpose(0, 3, 4, 2, 1).reshape(groups, r * s * cg, kg)
    return view[0] if groups == 1 else view
