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
    dense vs sparse, per run."""
    runs = []
    for label, comp in comparisons.items():
        for tag, result in (("dense", comp.dense), (comp.sparse.sparsity, comp.sparse)):
            runs.append(("\n".join([*label.split(":", 1), tag]), result))
    return _bars(runs, "Cycles, dense vs sparse (same hardware)")


def result_png(results: dict[str, WorkloadResult]) -> bytes:
    """The same bars for runs with no dense baseline beside them."""
    runs = [("\n".join(label.split(":", 1)), r) for label, r in results.items()]
    return _bars(runs, "Cycles")


def _bars(runs: list[tuple[str, WorkloadResult]], title: str) -> bytes:
    fig, (ax_c, ax_e) = plt.subplots(1, 2, figsize=(12, 4.8))
    labels, steady, fill, stall, energy_parts = [], [], [], [], []
    for label, result in runs:
        t = result.totals
        labels.append(label)
        steady.append(t.cycles.compute - t.cycles.fill_drain)
        fill.append(t.cycles.fill_drain)
        stall.append(t.cycles.memory_stall)
        energy_parts.append({k: v for k, v in t.energy_pj.items() if k != "total"})
    x = range(len(labels))
    ax_c.bar(x, steady, label="compute (steady)")
    ax_c.bar(x, fill, bottom=steady, label="fill / drain")
    ax_c.bar(
        x, stall, bottom=[a + b for a, b in zip(steady, fill, strict=True)], label="memory stall"
    )
    ax_c.set_xticks(list(x), labels, fontsize=8)
    ax_c.set_ylabel("cycles")
    ax_c.set_title(title)
    ax_c.legend(fontsize=8)
    bottom = [0.0] * len(labels)
    for key in energy_parts[0]:
        vals = [p[key] / 1e6 for p in energy_parts]
        ax_e.bar(x, vals, bottom=bottom, label=key)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    ax_e.set_xticks(list(x), labels, fontsize=8)
    ax_e.set_ylabel("energy (µJ)")
    ax_e.set_title("Energy breakdown")
    ax_e.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()
