"""matplotlib figures of results, as PNG bytes for `sparsim.writers` to write
with the rest of their set (on top of the core; the core never imports this).
Importing this module loads matplotlib: commands import it only to plot."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from simulator.results import Comparison, WorkloadResult


def comparison_png(comparisons: dict[str, Comparison]) -> bytes:
    """Cycles (compute without fill/drain, fill/drain, memory stall) and energy,
    dense vs sparse, per run, each sparse bar labelled with its speedup."""
    runs = []
    for label, comp in comparisons.items():
        for tag, result in (("dense", comp.dense), (comp.sparse.sparsity, comp.sparse)):
            speedup = None if result is comp.dense else comp.speedup
            runs.append(("\n".join([*label.split(":", 1), tag]), result, speedup))
    return _bars(runs, "dense vs sparse (speedup over dense)")


def result_png(results: dict[str, WorkloadResult]) -> bytes:
    """The same bars for runs with no dense baseline beside them."""
    runs = [("\n".join(label.split(":", 1)), r, None) for label, r in results.items()]
    return _bars(runs, "")


def _bars(runs: list[tuple[str, WorkloadResult, float | None]], title: str) -> bytes:
    fig, (ax_c, ax_e) = plt.subplots(1, 2, figsize=(13, 5.2))
    labels, steady, fill, stall, energy_parts, speedups = [], [], [], [], [], []
    for label, result, speedup in runs:
        t = result.totals
        labels.append(label)
        speedups.append(speedup)
        steady.append(t.cycles.compute - t.cycles.fill_drain)
        fill.append(t.cycles.fill_drain)
        stall.append(t.cycles.memory_stall)
        energy_parts.append({k: v for k, v in t.energy_pj.items() if k != "total"})
    archs = sorted({result.arch for _, result, _ in runs})
    x = range(len(labels))
    ax_c.bar(x, steady, label="compute (steady)")
    ax_c.bar(x, fill, bottom=steady, label="fill / drain")
    ax_c.bar(
        x, stall, bottom=[a + b for a, b in zip(steady, fill, strict=True)], label="memory stall"
    )
    totals = [a + b + c for a, b, c in zip(steady, fill, stall, strict=True)]
    for i, (top, speedup) in enumerate(zip(totals, speedups, strict=True)):
        if speedup is not None:
            ax_c.annotate(
                f"{speedup:.2f}x", (i, top), ha="center", va="bottom", fontsize=9,
                fontweight="bold", xytext=(0, 2), textcoords="offset points",
            )  # fmt: skip
    ax_c.set_ylim(0, max(totals) * 1.12)
    ax_c.set_xticks(list(x), labels, fontsize=8)
    ax_c.set_ylabel("cycles")
    ax_c.set_title(f"Cycles on {', '.join(archs)}" + (f", {title}" if title else ""))
    # legends below the axes, clear of the bars
    ax_c.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
    bottom = [0.0] * len(labels)
    for key in energy_parts[0]:
        vals = [p[key] / 1e6 for p in energy_parts]
        ax_e.bar(x, vals, bottom=bottom, label=key)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    ax_e.set_xticks(list(x), labels, fontsize=8)
    ax_e.set_ylabel("energy (µJ)")
    ax_e.set_title(f"Energy breakdown on {', '.join(archs)}")
    ax_e.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()
