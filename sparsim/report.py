"""The HTML report of a result store: one self-contained `index.html` (figures
inlined as data URIs, a sortable table of the points with the Pareto points
marked), the figures also written beside it as PNG and SVG."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from sparsim import plots_sweep as ps
from sparsim.store import Store
from sparsim.writers import write_atomic

TABLE_LIMIT = 5000  # rows shown in the page (all of them are in the store and the exports)
COLUMNS = (
    ("workload", "workload", str),
    ("arch", "arch", str),
    ("overrides", "set", str),
    ("run_sparsity", "sparsity", str),
    ("dataflow", "dataflow", str),
    ("objective", "objective", str),
    ("batch", "batch", int),
    ("accuracy", "accuracy", float),
    ("cycles", "cycles", int),
    ("energy_pj", "energy (µJ)", float),
    ("edp", "EDP (cycles·µJ)", float),
    ("speedup", "speedup", float),
    ("energy_saving", "energy saving", float),
    ("utilization", "utilization", float),
)
AXES = ("arch", "sparsity", "dataflow", "objective", "batch", "workload")


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    stem: str
    figure: Figure
    caption: str = ""


def varying_axes(rows: Sequence[dict]) -> list[str]:
    """Sweep axes with more than one value among `rows`: `set:` fields first."""
    overrides = list(dict.fromkeys(k for r in rows for k in json.loads(r["overrides"] or "{}")))
    out = []
    for axis in [*overrides, *AXES]:
        if len({json.dumps(ps.axis_value(r, axis), default=str) for r in rows}) > 1:
            out.append(axis)
    return out


def figures(
    rows: Sequence[dict],
    *,
    metric: str | None = None,
    axes: tuple[str, str] | None = None,
    extra: Sequence[Section] = (),
    per_workload: int = 4,
) -> list[Section]:
    """The report's figures for `rows` (with their `result` documents); energy per
    layer and roofline for the first `per_workload` workloads."""
    out = list(extra)
    sparse = [r for r in rows if ps.method_of(ps.run_sparsity(r)) != "dense"]
    if sparse:
        out.append(
            Section(
                "Speedup vs sparsity",
                "speedup_vs_sparsity",
                ps.speedup_vs_sparsity(rows),
                "Each sparse point against the same workload run dense on the same hardware.",
            )
        )
    out.append(
        Section(
            "Energy vs cycles",
            "pareto_energy_cycles",
            ps.pareto_plot(rows, "cycles", "energy_pj", title="Pareto front: energy vs cycles"),
            "Stars: points no other point of the same workload beats on both.",
        )
    )
    if any(r["accuracy"] is not None for r in rows):
        known = [r for r in rows if r["accuracy"] is not None]
        out.append(
            Section(
                "Accuracy vs speedup",
                "pareto_accuracy_speedup",
                ps.pareto_plot(
                    known,
                    "speedup",
                    "accuracy",
                    maximize=(True, True),
                    log=False,
                    label=lambda r: f"{ps.run_sparsity(r)} / {r['arch']}",
                    title="Pareto front: accuracy vs speedup",
                ),
            )
        )
    chosen_axes = axes or tuple(varying_axes(rows)[:2])
    if len(chosen_axes) == 2:
        m = metric or ("speedup" if sparse else "cycles")
        out.append(
            Section(
                f"{m} over {chosen_axes[0]} x {chosen_axes[1]}",
                "heatmap",
                ps.heatmap(rows, chosen_axes[0], chosen_axes[1], m),
            )
        )
    for wl in list(dict.fromkeys(r["workload"] for r in rows))[:per_workload]:
        best = min((r for r in rows if r["workload"] == wl), key=lambda r: r["edp"])
        safe = "".join(c if c.isalnum() else "_" for c in wl)
        how = f"{best['arch']}, {ps.run_sparsity(best)}, {best['dataflow']}"
        what = f"{wl}: the lowest-EDP point ({how})"
        out.append(
            Section(f"Energy per layer, {what}", f"energy_{safe}", ps.energy_breakdown(best))
        )
        out.append(Section(f"Roofline, {what}", f"roofline_{safe}", ps.roofline(best)))
    return out


def _cell(value, kind) -> tuple[str, str]:
    """(text shown, sort key)."""
    if value is None or value == "":
        return "", ""
    if kind is float:
        return f"{value:.4g}", repr(float(value))
    if kind is int:
        return f"{value:,}", str(value)
    return html.escape(str(value)), html.escape(str(value))


def _table(rows: Sequence[dict], front: set[str]) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in COLUMNS)
    lines = [f'<table id="points"><thead><tr><th>Pareto</th>{head}</tr></thead><tbody>']
    for r in rows[:TABLE_LIMIT]:
        shown = dict(r)
        shown["energy_pj"] = r["energy_pj"] / 1e6
        shown["edp"] = r["edp"] / 1e6
        shown["overrides"] = ", ".join(
            f"{k}={v}" for k, v in json.loads(r["overrides"] or "{}").items()
        )
        on = r["key"] in front
        cells = [f'<td data-v="{int(on)}">{"★" if on else ""}</td>']
        for col, _, kind in COLUMNS:
            text, key = _cell(shown.get(col), kind)
            cells.append(f'<td data-v="{key}">{text}</td>')
        cls = ' class="pareto"' if on else ""
        lines.append(f"<tr{cls}>{''.join(cells)}</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


SCRIPT = """
document.querySelectorAll('#points th').forEach((th, col) => {
  th.addEventListener('click', () => {
    const body = th.closest('table').tBodies[0];
    const asc = th.dataset.dir !== 'asc';
    th.parentNode.querySelectorAll('th').forEach(h => delete h.dataset.dir);
    th.dataset.dir = asc ? 'asc' : 'desc';
    const key = tr => tr.children[col].dataset.v;
    const rows = Array.from(body.rows).sort((a, b) => {
      const x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
      const c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return asc ? c : -c;
    });
    rows.forEach(r => body.appendChild(r));
  });
});
"""
STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
h1 { margin-bottom: 0.2em; } .meta { color: #555; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; font-size: 0.8em; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
th { background: #eee; cursor: pointer; position: sticky; top: 0; }
th[data-dir=asc]::after { content: " ▲"; } th[data-dir=desc]::after { content: " ▼"; }
tr.pareto { background: #fff4c2; font-weight: bold; }
"""


def render_html(title: str, meta: str, sections: Sequence[tuple[str, str, str]], table: str) -> str:
    """The page: `sections` are (title, PNG data URI, caption)."""
    figs = "\n".join(
        f'<h2>{html.escape(t)}</h2><figure><img alt="{html.escape(t)}" src="{uri}">'
        f"<figcaption>{html.escape(c)}</figcaption></figure>"
        for t, uri, c in sections
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{STYLE}</style></head>
<body><h1>{html.escape(title)}</h1><p class="meta">{meta}</p>
{figs}
<h2>Design points</h2><p class="meta">Click a column to sort. ★ and highlighted: on the
energy-vs-cycles Pareto front of its workload. Energy in µJ.</p>
{table}
<script>{SCRIPT}</script></body></html>
"""


def build_report(
    store_path: str | Path,
    out_dir: str | Path,
    *,
    sweep: str | None = None,
    metric: str | None = None,
    axes: tuple[str, str] | None = None,
    title: str | None = None,
    extra: Sequence[Section] = (),
    preamble: str = "",
    per_workload: int = 4,
) -> Path:
    """Write `out_dir`/index.html (self-contained) and the figures as PNG + SVG."""
    out = Path(out_dir)
    with Store(store_path, create=False) as store:
        rows = store.rows(sweep, with_result=True)
        rows.sort(key=lambda r: (r["workload"], r["cycles"]))
        names = [sweep] if sweep else store.sweeps()
    if not rows:
        from sparsim.store import StoreError

        raise StoreError(str(store_path), "points", 0, "a store with computed points")
    if metric is not None and metric not in rows[0]:
        from sparsim.store import StoreError

        raise StoreError(
            "--metric", "metric", metric, ", ".join(k for k in rows[0] if k != "result")
        )
    front = ps.pareto_front(rows, "cycles", "energy_pj")
    sections = []
    for sec in figures(rows, metric=metric, axes=axes, extra=extra, per_workload=per_workload):
        png, _ = ps.save_figure(sec.figure, out / "figures" / sec.stem)
        uri = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()
        sections.append((sec.title, uri, sec.caption))
    meta = (
        f"{len(rows)} design points from sweep(s) {html.escape(', '.join(names))}; "
        f"model {html.escape(rows[0]['model_version'])}; store {html.escape(str(store_path))}; "
        f"{len(front)} on the energy-vs-cycles Pareto front."
    )
    if preamble:
        meta += "</p>" + preamble + "<p>"
    page = render_html(
        title or f"sparsim report: {', '.join(names)}", meta, sections, _table(rows, front)
    )
    return write_atomic(out / "index.html", page)


__all__ = ["Section", "build_report", "figures", "render_html", "varying_axes"]
