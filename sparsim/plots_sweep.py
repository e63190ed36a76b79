"""Figures of sweep results (matplotlib; rows as `sparsim.store.Store.rows` gives them).

Each function returns a Figure; `save_figure` writes it as PNG and SVG.
Pareto fronts are computed here (`pareto_front`) so the report marks the
same points the figures draw.
"""

from __future__ import annotations

import io
import json
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from sparsim.writers import write_atomic

ENERGY_SKIP = ("total",)


def figure_bytes(fig: Figure, fmt: str, dpi: int = 100) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def save_figure(fig: Figure, stem: Path) -> tuple[Path, Path]:
    """`stem`.png and `stem`.svg, each written atomically; closes the figure."""
    stem = Path(stem)
    png = write_atomic(stem.with_suffix(".png"), figure_bytes(fig, "png"))
    svg = write_atomic(stem.with_suffix(".svg"), figure_bytes(fig, "svg"))
    plt.close(fig)
    return png, svg


def pareto_front(
    rows: Sequence[dict], x: str, y: str, *, maximize: tuple[bool, bool] = (False, False)
) -> set[str]:
    """Keys of the rows no other row beats on both `x` and `y` (per workload: the
    cycles and energy of different workloads do not compare)."""
    front: set[str] = set()
    by_workload: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r.get(x) is not None and r.get(y) is not None:
            by_workload[r["workload"]].append(r)
    sx, sy = (-1 if m else 1 for m in maximize)
    for group in by_workload.values():
        ordered = sorted(group, key=lambda r: (sx * r[x], sy * r[y]))
        best = math.inf
        for r in ordered:
            if sy * r[y] < best:
                best = sy * r[y]
                front.add(r["key"])
    return front


def axis_value(row: dict, axis: str):
    """A sweep axis of a row: a column, or an arch field set by `set:`."""
    if axis in row:
        return row[axis]
    return json.loads(row.get("overrides") or "{}").get(axis)


def run_sparsity(row: dict) -> str:
    """How the point's weights are pruned: the label its result carries (a saved,
    pruned workload run with `sparsity: dense` keeps its own label)."""
    return row.get("run_sparsity") or row["sparsity"]


def method_of(sparsity: str) -> str:
    return sparsity.split("+")[0].split(":")[0]


def speedup_vs_sparsity(rows: Sequence[dict]) -> Figure:
    """Speedup over dense on the same hardware vs weight sparsity (1 - density): a panel
    per arch, a line per pruning method (mean over the other axes at each sparsity)."""
    series: dict[str, dict[str, dict[float, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for r in rows:
        method = method_of(run_sparsity(r))
        if method != "dense":
            x = round(1 - r["weight_density"], 2)  # 0.499 and 0.501 are one point
            series[r["arch"]][method][x].append(r["speedup"])
    archs = sorted(series) or ["-"]
    cols = min(4, len(archs))
    rows_n = -(-len(archs) // cols)
    fig, axes = plt.subplots(
        rows_n, cols, figsize=(3.6 * cols + 1.8, 3.2 * rows_n + 0.6), sharey=True, squeeze=False
    )
    methods = sorted({m for by in series.values() for m in by})
    colours = {m: f"C{i % 10}" for i, m in enumerate(methods)}
    for ax in axes.flat[len(archs) :]:
        ax.set_visible(False)
    for ax, arch in zip(axes.flat, archs, strict=False):
        for method, points in sorted(series.get(arch, {}).items()):
            xs = [0.0, *sorted(points)]
            ys = [1.0] + [sum(points[x]) / len(points[x]) for x in xs[1:]]
            ax.plot(xs, ys, marker="o", ms=4, color=colours[method], label=method)
        ax.axhline(1.0, color="grey", lw=0.8, ls=":")
        ax.set_title(arch, fontsize=9)
        ax.set_xlabel("weight sparsity", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[:, 0]:
        ax.set_ylabel("speedup over dense", fontsize=8)
    handles = [plt.Line2D([], [], color=colours[m], marker="o", label=m) for m in methods]
    if handles:
        fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 0.95), fontsize=8)
    fig.suptitle("Speedup vs weight sparsity, per pruning pattern and arch (same hardware)")
    fig.tight_layout()
    return fig


def energy_breakdown(row: dict) -> Figure:
    """Per-layer energy of one point, stacked by component (needs the row's `result`)."""
    layers = row["result"]["layers"]
    keys = [k for k in layers[0]["energy_pj"] if k not in ENERGY_SKIP] if layers else []
    fig, ax = plt.subplots(figsize=(max(6.0, 0.35 * len(layers) + 3), 4.5))
    bottom = [0.0] * len(layers)
    x = range(len(layers))
    for key in keys:
        vals = [lr["energy_pj"].get(key, 0.0) / 1e6 for lr in layers]
        ax.bar(x, vals, bottom=bottom, label=key)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    ax.set_xticks(list(x), [lr["name"] for lr in layers], rotation=90, fontsize=7)
    ax.set_ylabel("energy (µJ)")
    ax.set_title(f"Energy per layer: {row['workload']} on {row['arch']}, {run_sparsity(row)}")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def roofline(row: dict) -> Figure:
    """The arch's roofline (peak MACs/cycle, DRAM bytes/cycle) with each layer of one
    point placed at its arithmetic intensity and achieved MACs/cycle."""
    peak, bw = row["peak_macs_per_cycle"], row["dram_bytes_per_cycle"]
    layers = [lr for lr in row["result"]["layers"] if lr["dram_bytes"] and lr["cycles"]["total"]]
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    xs = [lr["effective_macs"] / lr["dram_bytes"] for lr in layers] or [1.0]
    lo, hi = min([*xs, peak / bw if bw < math.inf else 1.0]) / 4, max(xs) * 4
    grid = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    ax.plot(grid, [min(peak, bw * g) for g in grid], color="black", lw=1.5, label="roofline")
    for lr, x in zip(layers, xs, strict=False):
        y = lr["effective_macs"] / lr["cycles"]["total"]
        ax.scatter([x], [y], s=18)
        ax.annotate(lr["name"], (x, y), fontsize=6, xytext=(3, 2), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (effective MACs / DRAM byte)")
    ax.set_ylabel("effective MACs / cycle")
    ax.set_title(
        f"Roofline of {row['arch']} (peak {peak} MACs/cycle, {bw:g} B/cycle): "
        f"{row['workload']}, {run_sparsity(row)}",
        fontsize=9,
    )
    ax.legend(fontsize=8, loc="lower right")
    return fig


def pareto_plot(
    rows: Sequence[dict],
    x: str,
    y: str,
    *,
    maximize: tuple[bool, bool] = (False, False),
    label: Callable[[dict], str] | None = None,
    log: bool = True,
    title: str = "",
) -> Figure:
    """Every point, the Pareto front per workload drawn through its points."""
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    front = pareto_front(rows, x, y, maximize=maximize)
    by_workload: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r.get(x) is not None and r.get(y) is not None:
            by_workload[r["workload"]].append(r)
    for wl, group in sorted(by_workload.items()):
        pts = ax.scatter([r[x] for r in group], [r[y] for r in group], s=12, alpha=0.45)
        best = sorted((r for r in group if r["key"] in front), key=lambda r: r[x])
        ax.plot(
            [r[x] for r in best],
            [r[y] for r in best],
            marker="*",
            ms=10,
            color=pts.get_facecolor()[0][:3],
            label=f"{wl} (Pareto front)",
        )
        if label:
            for r in best:
                ax.annotate(
                    label(r), (r[x], r[y]), fontsize=6, xytext=(3, 3), textcoords="offset points"
                )
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(title or f"Pareto front: {y} vs {x}")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def heatmap(rows: Sequence[dict], x_axis: str, y_axis: str, metric: str) -> Figure:
    """`metric` over two sweep axes (mean over the other axes), each cell labelled."""
    cells: dict[tuple, list[float]] = defaultdict(list)
    for r in rows:
        if r.get(metric) is not None:
            cells[(axis_value(r, x_axis), axis_value(r, y_axis))].append(r[metric])
    xs = sorted({k[0] for k in cells}, key=_sort_key)
    ys = sorted({k[1] for k in cells}, key=_sort_key)
    grid = [
        [
            sum(cells[(xv, yv)]) / len(cells[(xv, yv)]) if cells.get((xv, yv)) else math.nan
            for xv in xs
        ]
        for yv in ys
    ]
    fig, ax = plt.subplots(figsize=(1.1 * len(xs) + 3, 0.6 * len(ys) + 2.5))
    im = ax.imshow(grid, cmap="viridis", aspect="auto", origin="lower")
    ax.set_xticks(range(len(xs)), [str(v) for v in xs], fontsize=8)
    ax.set_yticks(range(len(ys)), [str(v) for v in ys], fontsize=8)
    finite = [v for line in grid for v in line if not math.isnan(v)]
    mid = (min(finite) + max(finite)) / 2 if finite else 0
    for i, line in enumerate(grid):
        for j, v in enumerate(line):
            if not math.isnan(v):
                ax.text(
                    j, i, f"{v:.3g}", ha="center", va="center", fontsize=7,
                    color="black" if v > mid else "white",
                )  # fmt: skip
    ax.set_xlabel(x_axis)
    ax.set_ylabel(y_axis)
    ax.set_title(f"{metric} over {x_axis} x {y_axis} (mean over the other axes)", fontsize=9)
    fig.colorbar(im, ax=ax, label=metric)
    return fig


def _sort_key(v):
    return (0, v, "") if isinstance(v, (int, float)) and v is not None else (1, 0, str(v))


__all__ = [
    "axis_value",
    "energy_breakdown",
    "figure_bytes",
    "heatmap",
    "method_of",
    "pareto_front",
    "pareto_plot",
    "roofline",
    "run_sparsity",
    "save_figure",
    "speedup_vs_sparsity",
]
