"""Real pruned networks, offline: a small MLP and a small CNN trained on
scikit-learn's bundled digits (8 x 8 images, 10 classes; no download), in
numpy, in seconds, so accuracy after each pruning method is measured, not
assumed.

    python -m workloads.digits            # the accuracy-vs-sparsity table
    python -m workloads.digits --fast     # fewer epochs and rows (what the test runs)

Both nets keep their weights in GEMM view ((K, N), the conv's K = R*S*C with
the channel innermost), so the pruning methods of `workloads.pruning` apply
to them exactly as to any workload, through `apply_sparsity`: N:M groups run
along K, as the hardware reduces. Every layer is pruned, the first and the
last included. Channel pruning removes hidden units / filters (not the 10
outputs) by L1 norm, giving a smaller dense net. Fine-tuning retrains the
kept weights with the mask fixed; `gradual` prunes during fine-tuning on the
cubic schedule of Zhu & Gupta (2017).

`digits_workload("mlp" | "cnn")` is the trained net as a workload with real
weights and the activation densities measured on the test set (ReLU zeros).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from workloads.activations import relu_density
from workloads.apply import apply_sparsity, prune_layer
from workloads.layers import Conv2d, Gemm, Layer
from workloads.pruning import channel_keep, cubic_sparsity, magnitude_mask
from workloads.sparsity_spec import Method, SparsitySpec, parse_sparsity
from workloads.workload import LayerWorkload, Workload, chain_graph

MODELS = ("mlp", "cnn")


@dataclass(frozen=True, slots=True, eq=False)
class DigitsData:
    x_train: np.ndarray  # (n, 8, 8, 1) in [0, 1]
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@functools.cache
def load_digits_data(seed: int = 0, test_fraction: float = 0.25) -> DigitsData:
    """scikit-learn's digits (1797 images), split per class with a seeded shuffle."""
    from sklearn.datasets import load_digits  # bundled with scikit-learn: read from disk

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[..., None]
    y = d.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), bool)
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(y == c))
        test[idx[: round(test_fraction * len(idx))]] = True
    return DigitsData(x[~test], y[~test], x[test], y[test])


@dataclass(frozen=True, slots=True, eq=False)
class DigitsNet:
    """Layers (batch 1), weights in GEMM view, biases and masks; ReLU after every layer but
    the last. A conv's output (n, P, Q, K) flattens channel-innermost into the next FC."""

    kind: str
    layers: tuple[Layer, ...]
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    masks: tuple[np.ndarray, ...]

    def with_params(self, weights, biases=None, masks=None, layers=None) -> DigitsNet:
        return DigitsNet(
            self.kind,
            tuple(layers if layers is not None else self.layers),
            tuple(weights),
            tuple(biases if biases is not None else self.biases),
            tuple(masks if masks is not None else self.masks),
        )


def architecture(kind: str) -> tuple[Layer, ...]:
    if kind == "mlp":
        return (Gemm("fc1", 1, 128, 64), Gemm("fc2", 1, 64, 128), Gemm("fc3", 1, 10, 64))
    if kind == "cnn":
        return (
            Conv2d("conv1", h=8, w=8, c=1, r=3, s=3, k=16, padding=1),
            Conv2d("conv2", h=8, w=8, c=16, r=3, s=3, k=32, stride=2, padding=1),
            Gemm("fc", 1, 10, 4 * 4 * 32),
        )
    raise ValueError(f"model = {kind!r}; allowed: {', '.join(MODELS)}")


def init_net(kind: str, rng: np.random.Generator) -> DigitsNet:
    layers = architecture(kind)
    weights, biases = [], []
    for layer in layers:
        g = layer.gemm()
        weights.append((rng.standard_normal((g.k, g.n)) * np.sqrt(2.0 / g.k)).astype(np.float32))
        biases.append(np.zeros(g.n, np.float32))
    masks = [np.ones(w.shape, bool) for w in weights]
    return DigitsNet(kind, layers, tuple(weights), tuple(biases), tuple(masks))


def _at_batch(layer: Layer, n: int) -> Layer:
    return dataclasses.replace(layer, batch=n) if isinstance(layer, Conv2d) else layer


def _col2im(layer: Conv2d, dcols: np.ndarray) -> np.ndarray:
    """Adjoint of `Conv2d.lower_activations` (groups == 1): sums columns back into the ifmap."""
    b, p, q = layer.batch, layer.out_h, layer.out_w
    top, left, bottom, right = layer.pads
    (sh, sw), (dh, dw) = layer.strides, layer.dilations
    x = np.zeros((b, layer.h + top + bottom, layer.w + left + right, layer.c), dcols.dtype)
    cols = dcols.reshape(b, p, q, layer.r, layer.s, layer.c)
    for i in range(layer.r):
        for j in range(layer.s):
            x[
                :, i * dh : i * dh + sh * (p - 1) + 1 : sh, j * dw : j * dw + sw * (q - 1) + 1 : sw
            ] += cols[:, :, :, i, j, :]
    return x[:, top : top + layer.h, left : left + layer.w, :]


def forward(net: DigitsNet, x: np.ndarray, keep: bool = False):
    """Logits; with `keep`, also each layer's lowered input (for backprop) and input tensor."""
    n = x.shape[0]
    a = x
    saved = []
    for i, (layer, w, b, mask) in enumerate(
        zip(net.layers, net.weights, net.biases, net.masks, strict=True)
    ):
        layer_n = _at_batch(layer, n)
        inp = a
        if isinstance(layer, Conv2d):
            cols = layer_n.lower_activations(a)
            z = (cols @ (w * mask) + b).reshape(n, layer.out_h, layer.out_w, layer.k)
        else:
            cols = a.reshape(n, -1)
            z = cols @ (w * mask) + b
        if keep:
            saved.append((layer_n, cols, inp, z))
        a = np.maximum(z, 0) if i < len(net.layers) - 1 else z
    return (a, saved) if keep else a


def accuracy(net: DigitsNet, x: np.ndarray, y: np.ndarray) -> float:
    return float((forward(net, x).argmax(axis=1) == y).mean())


def _grads(net: DigitsNet, x: np.ndarray, y: np.ndarray):
    logits, saved = forward(net, x, keep=True)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    dz = p
    dz[np.arange(len(y)), y] -= 1.0
    dz /= len(y)
    gw, gb = [None] * len(net.layers), [None] * len(net.layers)
    for i in range(len(net.layers) - 1, -1, -1):
        layer_n, cols, inp, z = saved[i]
        if i < len(net.layers) - 1:
            dz = dz * (z > 0)
        dz2 = dz.reshape(cols.shape[0], -1)
        gw[i] = cols.T @ dz2 * net.masks[i]
        gb[i] = dz2.sum(axis=0)
        if i == 0:
            break
        dcols = dz2 @ (net.weights[i] * net.masks[i]).T
        dz = _col2im(layer_n, dcols) if isinstance(layer_n, Conv2d) else dcols.reshape(inp.shape)
    return gw, gb


def train(
    net: DigitsNet,
    data: DigitsData,
    epochs: int,
    rng: np.random.Generator,
    lr: float = 0.05,
    batch: int = 32,
    schedule: tuple[float, int] | None = None,
) -> DigitsNet:
    """SGD with momentum; masked weights stay zero. `schedule = (final sparsity, steps)`
    re-prunes by magnitude on the cubic schedule while training (gradual pruning)."""
    from threadpoolctl import threadpool_limits  # comes with scikit-learn

    # the matmuls are tiny: BLAS threads only add overhead (4x slower on a busy machine)
    with threadpool_limits(limits=1):
        return _train(net, data, epochs, rng, lr, batch, schedule)


def _train(
    net: DigitsNet,
    data: DigitsData,
    epochs: int,
    rng: np.random.Generator,
    lr: float,
    batch: int,
    schedule: tuple[float, int] | None,
) -> DigitsNet:
    weights = [w.copy() for w in net.weights]
    biases = [b.copy() for b in net.biases]
    masks = list(net.masks)
    vel_w = [np.zeros_like(w) for w in weights]
    vel_b = [np.zeros_like(b) for b in biases]
    n = len(data.y_train)
    step = 0
    total = epochs * -(-n // batch)
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            cur = net.with_params(weights, biases, masks)
            gw, gb = _grads(cur, data.x_train[idx], data.y_train[idx])
            for i in range(len(weights)):
                vel_w[i] = 0.9 * vel_w[i] - lr * gw[i]
                vel_b[i] = 0.9 * vel_b[i] - lr * gb[i]
                weights[i] = (weights[i] + vel_w[i]) * masks[i]
                biases[i] = biases[i] + vel_b[i]
            step += 1
            if schedule is not None and step % 10 == 0:
                final, end = schedule
                s = cubic_sparsity(step, final, 0, min(end, total))
                masks = [magnitude_mask(w, s) for w in weights]
                weights = [w * m for w, m in zip(weights, masks, strict=True)]
    if schedule is not None:
        masks = [magnitude_mask(w, schedule[0]) for w in weights]
        weights = [w * m for w, m in zip(weights, masks, strict=True)]
    return net.with_params(weights, biases, masks)


EPOCHS = {"mlp": 30, "cnn": 20}


@functools.cache
def trained_net(kind: str, seed: int = 0, epochs: int | None = None) -> DigitsNet:
    rng = np.random.default_rng(seed)
    net = init_net(kind, rng)
    return train(net, load_digits_data(seed), epochs or EPOCHS[kind], rng)


def net_workload(net: DigitsNet, name: str | None = None) -> Workload:
    """The net as a workload (batch 1) with its real weights and masks."""
    layers = tuple(
        LayerWorkload(layer, weights=w * m, mask=m.copy(), density=float(m.mean()))
        for layer, w, m in zip(net.layers, net.weights, net.masks, strict=True)
    )
    return Workload(
        name or f"digits-{net.kind}",
        layers,
        graph=chain_graph(lw.name for lw in layers),
    )


def prune_net(net: DigitsNet, spec: SparsitySpec, seed: int = 0) -> DigitsNet:
    """The net pruned to `spec` (all layers; channel: hidden units / filters by L1 norm)."""
    if spec.kind is Method.CHANNEL:
        return _prune_channels(net, spec.sparsity)
    if spec.kind is Method.BLOCKDIAG:  # the masks in the net's own shapes, not lowered
        rng = np.random.default_rng(seed)
        masks = [prune_layer(lw, spec, rng).mask for lw in net_workload(net).layers]
    else:
        masks = [lw.mask for lw in apply_sparsity(net_workload(net), spec, seed=seed).layers]
    weights = [w * m for w, m in zip(net.weights, masks, strict=True)]
    return net.with_params(weights, masks=masks)


def _prune_channels(net: DigitsNet, sparsity: float) -> DigitsNet:
    layers, weights = list(net.layers), [w * m for w, m in zip(net.weights, net.masks, strict=True)]
    biases = list(net.biases)
    for i in range(len(layers) - 1):  # the 10 outputs stay
        keep = channel_keep(weights[i], sparsity, axis=-1)
        layer, nxt = layers[i], layers[i + 1]
        weights[i], biases[i] = weights[i][:, keep], biases[i][keep]
        layers[i] = dataclasses.replace(
            layer, **({"k": len(keep)} if isinstance(layer, Conv2d) else {"n": len(keep)})
        )
        w_next = weights[i + 1]
        if isinstance(nxt, Conv2d):  # rows are (r, s, c), channel innermost
            rs = nxt.r * nxt.s
            weights[i + 1] = w_next.reshape(rs, nxt.c, -1)[:, keep, :].reshape(rs * len(keep), -1)
            layers[i + 1] = dataclasses.replace(nxt, c=len(keep))
        elif isinstance(layer, Conv2d):  # conv -> FC: rows are (p, q, c), channel innermost
            pq = layer.out_h * layer.out_w
            weights[i + 1] = w_next.reshape(pq, -1, w_next.shape[1])[:, keep, :].reshape(
                pq * len(keep), -1
            )
            layers[i + 1] = dataclasses.replace(nxt, k=pq * len(keep))
        else:
            weights[i + 1] = w_next[keep, :]
            layers[i + 1] = dataclasses.replace(nxt, k=len(keep))
    masks = [np.ones(w.shape, bool) for w in weights]
    return net.with_params(weights, biases, masks, layers)


def density(net: DigitsNet, reference: DigitsNet) -> float:
    """Kept weights over the dense reference net's weights."""
    kept = sum(int(np.count_nonzero(m)) for m in net.masks)
    return kept / sum(w.size for w in reference.weights)


@dataclass(frozen=True, slots=True)
class Row:
    spec: str
    model: str
    density: float
    accuracy: float | None  # None: the method only exists with training (gradual)
    accuracy_finetuned: float


FULL_SPECS = (
    "dense",
    "magnitude:0.5",
    "magnitude:0.75",
    "magnitude:0.9",
    "global:0.9",
    "random:0.5",
    "random:0.75",
    "random:0.9",
    "nm:2:4",
    "nm:1:4",
    "nm:2:8",
    "bdwp:2:4",
    "block:4:0.5",
    "channel:0.25",
    "channel:0.5",
    "channel:0.75",
    "gradual:0.9",
)
FAST_SPECS = ("dense", "magnitude:0.9", "random:0.9", "nm:2:4", "channel:0.5")


def prune_and_tune(
    dense: DigitsNet,
    text: str,
    data: DigitsData,
    rng: np.random.Generator,
    finetune_epochs: int = 8,
    seed: int = 0,
) -> tuple[DigitsNet | None, DigitsNet]:
    """(pruned, fine-tuned with the mask fixed) for a sparsity spec; for `gradual:S`,
    (None, pruned while training on the cubic schedule): it has no untrained step."""
    if text.startswith("gradual:"):
        final = float(text.split(":")[1])
        steps = finetune_epochs * -(-len(data.y_train) // 32)
        tuned = train(dense, data, finetune_epochs, rng, lr=0.02, schedule=(final, steps * 3 // 4))
        return None, tuned
    pruned = prune_net(dense, parse_sparsity(text), seed)
    if text == "dense":
        return pruned, pruned
    return pruned, train(pruned, data, finetune_epochs, rng, lr=0.02)


def pruning_table(
    specs: Sequence[str] = FULL_SPECS,
    models: Sequence[str] = MODELS,
    *,
    seed: int = 0,
    epochs: dict[str, int] | None = None,
    finetune_epochs: int = 8,
) -> list[Row]:
    """Accuracy on the test split after each pruning spec, without and with fine-tuning."""
    data = load_digits_data(seed)
    rows = []
    for kind in models:
        dense = trained_net(kind, seed, (epochs or EPOCHS)[kind])
        for text in specs:
            rng = np.random.default_rng([seed, len(rows)])
            pruned, tuned = prune_and_tune(dense, text, data, rng, finetune_epochs, seed)
            rows.append(
                Row(
                    text,
                    kind,
                    density(pruned or tuned, dense),
                    None if pruned is None else accuracy(pruned, data.x_test, data.y_test),
                    accuracy(tuned, data.x_test, data.y_test),
                )
            )
    return rows


def format_table(rows: Sequence[Row]) -> str:
    models = list(dict.fromkeys(r.model for r in rows))
    specs = list(dict.fromkeys(r.spec for r in rows))
    by = {(r.model, r.spec): r for r in rows}
    head = f"{'pruning':<15}" + "".join(
        f" | {m.upper() + ' density':>12} {'acc':>6} {'acc+FT':>7}" for m in models
    )
    lines = [head, "-" * len(head)]
    for spec in specs:
        cells = []
        for m in models:
            r = by[(m, spec)]
            acc = "-" if r.accuracy is None else f"{r.accuracy:.3f}"
            cells.append(f" | {r.density:>12.3f} {acc:>6} {r.accuracy_finetuned:>7.3f}")
        lines.append(f"{spec:<15}" + "".join(cells))
    return "\n".join(lines)


def measured_workload(net: DigitsNet, data: DigitsData) -> Workload:
    """`net` as a workload (batch 1): real weights and masks, and activation densities
    measured on the test split (the nonzero fraction of each layer's input)."""
    _, saved = forward(net, data.x_test, keep=True)
    wl = net_workload(net)
    layers = [
        dataclasses.replace(lw, activation_density=relu_density(inp))
        for lw, (_, _, inp, _) in zip(wl.layers, saved, strict=True)
    ]
    return wl.replace_layers(layers)


def digits_workload(kind: str, seed: int = 0) -> Workload:
    """The trained dense net as a workload, activation densities measured."""
    return measured_workload(trained_net(kind, seed), load_digits_data(seed))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workloads.digits",
        description="Accuracy vs sparsity of an MLP and a CNN trained on scikit-learn's digits.",
    )
    parser.add_argument("--fast", action="store_true", help="fewer epochs and pruning specs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.fast:
        rows = pruning_table(
            FAST_SPECS, seed=args.seed, epochs={"mlp": 15, "cnn": 8}, finetune_epochs=3
        )
    else:
        rows = pruning_table(seed=args.seed)
    data = load_digits_data(args.seed)
    print(
        f"digits: {len(data.y_train)} train / {len(data.y_test)} test images; "
        "density = kept weights / dense weights; FT = fine-tuned with the mask fixed"
    )
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
