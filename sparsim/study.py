"""The co-design study: accuracy vs speedup vs energy of real pruned networks.

The digits MLP and CNN (`workloads.digits`, trained on scikit-learn's bundled
digits) are pruned by each method, fine-tuned with the mask fixed (gradual
pruning prunes while it trains), and saved as workloads with their real
weights, masks and measured activation densities. A sweep spec then runs
each on each preset, through the same sweep, store and report as any other
sweep; the study adds its figure and its table, in which speedup and energy
saving are against the dense trained model on the same preset (channel
pruning gives smaller dense layers, which only this baseline credits; so does
blockdiag, saved lowered to its grouped GEMMs).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from simulator.arch import preset_names
from sparsim.api import save_workload
from sparsim.report import Section, build_report
from sparsim.store import read_results
from sparsim.sweep import load_sweep, run_sweep
from sparsim.sweep.run import SweepSummary
from sparsim.writers import write_atomic
from workloads.apply import apply_sparsity
from workloads.digits import (
    EPOCHS,
    MODELS,
    accuracy,
    load_digits_data,
    measured_workload,
    prune_and_tune,
    trained_net,
)
from workloads.sparsity_spec import parse_sparsity

METHODS = (
    "dense",
    "magnitude:0.75",
    "global:0.75",
    "random:0.5",
    "nm:2:4",
    "nm:1:4",
    "nm:2:8",
    "bdwp:2:4",
    "channel:0.5",
    "block:4:0.5",
    "gradual:0.75",
    "blockdiag:4",
)
FAST_METHODS = ("dense", "nm:2:4", "channel:0.5", "blockdiag:2", "gradual:0.5")
FAST_PRESETS = ("edge", "vegeta")
SEP = "/"  # workload label: model/method


@dataclass(frozen=True, slots=True)
class Pruned:
    model: str
    method: str
    density: float  # kept weights / dense weights
    accuracy: float
    path: Path


@dataclass(frozen=True, slots=True)
class Cell:
    accuracy: float
    speedup: float  # dense model cycles / this model's cycles, same preset
    energy_saving: float


def prune_and_finetune(
    out: Path,
    methods: Sequence[str] = METHODS,
    models: Sequence[str] = MODELS,
    *,
    seed: int = 0,
    epochs: dict[str, int] | None = None,
    finetune_epochs: int = 8,
) -> list[Pruned]:
    """Each model pruned by each method and fine-tuned, saved under `out`/workloads/."""
    data = load_digits_data(seed)
    done = []
    for kind in models:
        dense = trained_net(kind, seed, (epochs or EPOCHS)[kind])
        for i, method in enumerate(methods):
            rng = np.random.default_rng([seed, i])
            _, net = prune_and_tune(dense, method, data, rng, finetune_epochs, seed)
            measured = measured_workload(net, data)
            if method.startswith("blockdiag:"):  # saved as the grouped GEMMs it runs as
                measured = apply_sparsity(measured, parse_sparsity(method), seed=seed)
            wl = measured.replace_layers(measured.layers, sparsity=method)
            safe = method.replace(":", "_").replace(".", "p")
            path = out / "workloads" / f"{kind}-{safe}.json"
            save_workload(wl, path)
            kept = sum(int(np.count_nonzero(m)) for m in net.masks)
            done.append(
                Pruned(
                    kind,
                    method,
                    kept / sum(w.size for w in dense.weights),
                    accuracy(net, data.x_test, data.y_test),
                    path,
                )
            )
    return done


def study_spec(pruned: Sequence[Pruned], presets: Sequence[str], out: Path) -> Path:
    """The study as a sweep spec file (workload paths relative to it)."""
    doc = {
        "name": "codesign-study",
        "workloads": [
            {
                "workload": str(p.path.relative_to(out)),
                "accuracy": round(p.accuracy, 6),
                "label": f"digits-{p.model}{SEP}{p.method}",
            }
            for p in pruned
        ],
        "arch": list(presets),
        "sparsity": ["dense"],  # the saved masks as they are
        "dataflow": ["arch"],
    }
    return write_atomic(out / "study.yaml", yaml.safe_dump(doc, sort_keys=False))


def table(rows: Sequence[dict], order: Sequence[str] = METHODS) -> dict[tuple[str, str, str], Cell]:
    """(model, method, preset) -> accuracy, speedup and energy saving vs the dense model,
    in the order of the study: model, then method as in `order`, then preset as stored."""
    by = {}
    rank = {m: i for i, m in enumerate(order)}
    models = {"digits-mlp": 0, "digits-cnn": 1}
    arch_order = list(dict.fromkeys(r["arch_base"] for r in rows))
    rows = sorted(
        rows,
        key=lambda r: (
            models.get(r["workload"].split(SEP)[0], 2),
            rank.get(r["workload"].split(SEP, 1)[1], len(rank)),
            arch_order.index(r["arch_base"]),
        ),
    )
    for r in rows:
        model, method = r["workload"].split(SEP, 1)
        by[(model, method, r["arch"])] = r
    cells = {}
    for (model, method, arch), r in by.items():
        base = by.get((model, "dense", arch))
        if base is None:
            continue
        cells[(model, method, arch)] = Cell(
            r["accuracy"], base["cycles"] / r["cycles"], base["energy_pj"] / r["energy_pj"]
        )
    return cells


def format_table(cells: dict[tuple[str, str, str], Cell]) -> str:
    """Markdown: one row per model and method, one column per preset (speedup / energy
    saving, both against the dense model on that preset)."""
    models = list(dict.fromkeys(k[0] for k in cells))
    methods = list(dict.fromkeys(k[1] for k in cells))
    presets = list(dict.fromkeys(k[2] for k in cells))
    head = "| model | method | accuracy | " + " | ".join(presets) + " |"
    lines = [
        "speedup x / energy saving x against the dense model on the same preset",
        "",
        head,
        "|" + "---|" * (3 + len(presets)),
    ]
    for model in models:
        for method in methods:
            row = [cells.get((model, method, p)) for p in presets]
            if not any(row):
                continue
            acc = next(c.accuracy for c in row if c)
            parts = [f"{c.speedup:.2f} / {c.energy_saving:.2f}" if c else "-" for c in row]
            lines.append(f"| {model} | {method} | {acc:.3f} | " + " | ".join(parts) + " |")
    return "\n".join(lines)


def study_figure(cells: dict[tuple[str, str, str], Cell]):
    """Accuracy vs speedup, colour = energy saving, one marker per preset, a panel per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.lines
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    models = list(dict.fromkeys(k[0] for k in cells))
    presets = list(dict.fromkeys(k[2] for k in cells))
    markers = dict(zip(presets, "osD^vP*Xh<>", strict=False))
    savings = [c.energy_saving for c in cells.values()]
    norm = matplotlib.colors.Normalize(min(savings), max(savings))
    fig, axes = plt.subplots(1, len(models), figsize=(6.5 * len(models), 5.2), squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        mine = {k: c for k, c in cells.items() if k[0] == model}
        for preset in presets:
            pts = [c for k, c in mine.items() if k[2] == preset]
            ax.scatter(
                [c.speedup for c in pts],
                [c.accuracy for c in pts],
                c=[c.energy_saving for c in pts],
                cmap="viridis",
                norm=norm,
                marker=markers[preset],
                s=46,
                edgecolors="black",
                linewidths=0.4,
            )
        flat = []  # methods no preset speeds up: one note instead of a pile of labels
        for method in dict.fromkeys(k[1] for k in mine):
            best = max((c for k, c in mine.items() if k[1] == method), key=lambda c: c.speedup)
            if best.speedup < 1.02 and method != "dense":
                flat.append(f"{method} ({best.accuracy:.3f})")
                continue
            ax.annotate(
                method, (best.speedup, best.accuracy), fontsize=7, xytext=(4, 3),
                textcoords="offset points",
            )  # fmt: skip
        if flat:
            ax.text(
                0.98, 0.03, "1x on every preset (accuracy):\n" + "\n".join(flat),
                transform=ax.transAxes, ha="right", va="bottom", fontsize=7,
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "lightgrey"},
            )  # fmt: skip
        ax.axvline(1.0, color="grey", lw=0.8, ls=":")
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}x"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("speedup over the dense model on the same preset")
        ax.set_ylabel("test accuracy (fine-tuned)")
        ax.set_title(model)
    handles = [
        matplotlib.lines.Line2D(
            [], [], marker=markers[p], ls="", color="lightgrey", markeredgecolor="black", label=p
        )
        for p in presets
    ]
    fig.legend(handles=handles, loc="lower center", ncol=len(presets), fontsize=8, title="preset")
    fig.suptitle("Pruning methods x presets: accuracy vs speedup (colour: energy saving)")
    fig.tight_layout(rect=(0, 0.1, 1, 0.97))
    fig.colorbar(
        matplotlib.cm.ScalarMappable(norm=norm, cmap="viridis"),
        ax=list(axes[0]),
        label="energy saving over the dense model",
    )
    return fig


@dataclass(frozen=True, slots=True)
class StudyResult:
    summary: SweepSummary
    cells: dict
    table: str
    report: Path
    figure: Path


def run_study(
    out: str | Path,
    *,
    methods: Sequence[str] = METHODS,
    presets: Sequence[str] | None = None,
    seed: int = 0,
    fast: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable | None = None,
) -> StudyResult:
    """Prune, fine-tune, sweep every preset, write the figure, table and report under `out`."""
    out = Path(out)
    presets = list(presets or (FAST_PRESETS if fast else preset_names()))
    pruned = prune_and_finetune(
        out,
        methods,
        seed=seed,
        epochs={"mlp": 8, "cnn": 4} if fast else None,
        finetune_epochs=1 if fast else 8,
    )
    spec = study_spec(pruned, presets, out)
    summary = run_sweep(
        load_sweep(spec),
        out / "results.db",
        workers=workers,
        scheduler=scheduler,
        progress=progress,
    )
    rows = read_results(out / "results.db", "codesign-study")
    rows.sort(key=lambda r: presets.index(r["arch_base"]))
    cells = table(rows, methods)
    text = format_table(cells)
    write_atomic(out / "study.md", "# Co-design study\n\n" + text + "\n")
    extra = [Section("Accuracy vs speedup vs energy", "study", study_figure(cells), "The study.")]
    report = build_report(
        out / "results.db",
        out / "report",
        sweep="codesign-study",
        title="sparsim co-design study: digits MLP and CNN",
        extra=extra,
        preamble=_html_table(cells),
        per_workload=2,
    )
    for suffix in (".png", ".svg"):  # the figure the report drew, also beside the table
        drawn = (out / "report" / "figures" / "study").with_suffix(suffix)
        write_atomic((out / "study").with_suffix(suffix), drawn.read_bytes())
    png = out / "study.png"
    return StudyResult(summary, cells, text, report, png)


def _html_table(cells: dict[tuple[str, str, str], Cell]) -> str:
    presets = list(dict.fromkeys(k[2] for k in cells))
    head = "".join(f"<th>{html.escape(p)}</th>" for p in presets)
    lines = [
        "<p>Speedup / energy saving against the dense model on the same preset.</p>",
        f"<table><tr><th>model</th><th>method</th><th>accuracy</th>{head}</tr>",
    ]
    for model, method in dict.fromkeys(k[:2] for k in cells):
        row = [cells.get((model, method, p)) for p in presets]
        acc = next(c.accuracy for c in row if c)
        tds = "".join(
            f"<td>{c.speedup:.2f} / {c.energy_saving:.2f}</td>" if c else "<td>-</td>" for c in row
        )
        lines.append(
            f"<tr><td>{html.escape(model)}</td><td>{html.escape(method)}</td>"
            f"<td>{acc:.3f}</td>{tds}</tr>"
        )
    lines.append("</table>")
    return "\n".join(lines)


__all__ = [
    "FAST_METHODS",
    "METHODS",
    "Cell",
    "Pruned",
    "StudyResult",
    "format_table",
    "prune_and_finetune",
    "run_study",
    "study_figure",
    "study_spec",
    "table",
]
