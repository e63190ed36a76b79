"""docs/validation.md from a validation run: every case with its source, the
reference, sparsim's number, the error and the tolerance with why it is fair."""

from __future__ import annotations

import datetime as _dt
import json

from sparsim.validate import Report, timeloop_gap
from sparsim.validate.timeloop_compare import COUNT_TOLERANCE, SHARE_TOLERANCE_PP


def _shown(path) -> str:
    """A path as the reader of the repository sees it (relative to the repo's parent
    when it lies there, as ../shared/... does)."""
    from sparsim.validate import REPO

    try:
        return "../" + str(path.resolve().relative_to(REPO.parent))
    except (ValueError, AttributeError):
        return str(path)


def _num(v: float | None) -> str:
    if v is None:
        return "—"
    if abs(v) >= 1e5:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:,.1f}"
    return f"{v:.4g}"


def _verdict(passed: bool, known_gap: str = "", held: bool = True) -> str:
    if not held:
        return "not held (differs by construction)"
    if passed:
        return "**pass**"
    return "FAIL (known gap)" if known_gap else "**FAIL**"


def summary(report: Report) -> dict[str, int]:
    a_pass = sum(c.passed for c in report.anchors)
    comps = [c for o in report.timeloop for c in o.comparisons]
    held = [c for c in comps if c.held]
    return {
        "anchor_checks": len(report.anchors),
        "anchor_passed": a_pass,
        "timeloop_cases": len(report.timeloop),
        "timeloop_comparisons": len(comps),
        "timeloop_held": len(held),
        "timeloop_held_passed": sum(c.passed for c in held),
        "timeloop_all_within": sum(c.passed for c in comps),
        "sparse_cases": sum(bool(o.sparsity) for o in report.timeloop),
        "sparse_run": sum(o.sparsity in ("gated", "skipped") for o in report.timeloop),
        "energy_shares_held": sum(c.quantity.startswith("energy share") for c in held),
        "energy_shares_passed": sum(
            c.passed for c in held if c.quantity.startswith("energy share")
        ),
    }


def render(report: Report, revision: str = "") -> str:
    s = summary(report)
    when = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Validation: sparsim against silicon, analytic anchors and Timeloop",
        "",
        f"Written by `make validate` (`python -m sparsim validate`) on {when}"
        + (f" at {revision}" if revision else "")
        + (" — fast subset only." if report.fast else ".")
        + " Do not edit by hand: the numbers come from the run.",
        "",
        f"- Anchors: {s['anchor_passed']} of {s['anchor_checks']} checks pass.",
        f"- Timeloop: {s['timeloop_cases']} case folders, {s['timeloop_comparisons']} comparisons; "
        f"{s['timeloop_held']} are on the same loop nest and held to the tolerance, "
        f"{s['timeloop_held_passed']} of those pass ({s['timeloop_all_within']} of all "
        "comparisons fall within the tolerance).",
        f"- Energy shares held: {s['energy_shares_held']}, {s['energy_shares_passed']} pass. "
        f"Sparseloop cases: {s['sparse_cases']}, {s['sparse_run']} run by sparsim with "
        "their sparsity (the others dense, each with the features sparsim lacks).",
        "",
        "## Anchors (sparsim/validate/anchors.yaml)",
        "",
        "| case | quantity | reference | sparsim | error | tolerance | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in report.anchors:
        err = "—" if c.error is None else f"{c.error:+.1%}"
        lines.append(
            f"| {c.case} | {c.quantity} | {_num(c.reference)} {c.unit} | {_num(c.sparsim)} | "
            f"{err} | {c.tolerance} | {_verdict(c.passed, c.known_gap)} |"
        )
    lines += ["", "### Sources, tolerances and notes", ""]
    seen = set()
    for c in report.anchors:
        if c.case in seen:
            continue
        seen.add(c.case)
        lines.append(f"- **{c.case}**. Source: {c.source} Tolerance: {c.tolerance}; {c.why}")
        notes = [x.note for x in report.anchors if x.case == c.case and x.note]
        if notes:
            lines.append(f"  Note: {'; '.join(dict.fromkeys(notes))}.")
        if c.known_gap:
            lines.append(f"  Known gap: {c.known_gap}")
    lines += [
        "",
        "## Timeloop v3 / Sparseloop + Accelergy reference outputs",
        "",
        "Cases: every folder with a `*.stats.txt` and a `*.map.txt` under "
        f"`{_shown(report.timeloop_root)}` "
        "(read by `sparsim/validate/timeloop.py`). Per storage level, Timeloop's algorithmic "
        "(dense) reads + fills + updates against sparsim's accesses for the same problem "
        "and the same loop nest (from the map), in words; energy by level prices sparsim's "
        "counts with Timeloop's own per-access energies (the stats' energy per scalar "
        "access, from its ERT) and compares shares of the total. Tolerances (issue 9): "
        f"counts within {COUNT_TOLERANCE:.0%} where the loop nests are the same, "
        f"energy shares within {SHARE_TOLERANCE_PP:g} percentage points. A comparison whose "
        "nest sparsim cannot express is reported but not held; the reason is in the last "
        "column. Sparseloop cases: the design's sparsity is read from the stats (gated and "
        "skipped counts per level and action, stored formats, actual computes); where "
        "sparsim expresses it (zero activations gated or skipped by the PEs, saving their "
        "MAC's weight read and / or partial-sum read-modify-write as the design's gated "
        "counts show: `pe_array.gating_saves`; input reads conditioned on zero weights, or "
        "both operands' on each other, at the weights' density the counts show; the rank "
        "formats RLE, CP, UOP-CP, UOP-RLE, UOP-UOP-CP, UOP-UOP-RLE, at every level or per "
        "level (`memory.<level>.formats`), three ranks following the tiling) sparsim runs "
        "the case at that "
        "density and Timeloop's actual counts (rows `actual ...`) and energy shares are held "
        "to that run; otherwise the shares are of sparsim's dense run, not held, and the "
        "reason names the feature sparsim lacks.",
        "",
    ]
    for o in report.timeloop:
        lines += [f"### {o.case}", ""]
        if o.plan is None:
            lines += [f"Not compared: {o.note}", ""]
            continue
        p = o.plan
        m, n, k = p.problem.gemm
        lines.append(
            f"Problem: {p.problem.family} {dict(sorted(p.problem.dims.items()))} = GEMM "
            f"m={m} n={n} k={k}; array {p.array[0]}x{p.array[1]}; {p.word_bits}-bit words. "
            "Levels: "
            + "; ".join(
                f"{lv.timeloop} -> {lv.sparsim or 'none'} tile {lv.tile} loops "
                f"'{lv.loop_order or '-'}'"
                for lv in p.levels
            )
            + "."
        )
        gap = timeloop_gap(o.case)
        if gap:
            lines.append(f"Known gap (sparsim/validate/timeloop_gaps.yaml): {gap}")
        if o.tile_mismatches:
            lines.append(f"Map self-check mismatches: {'; '.join(o.tile_mismatches)}.")
        lines += [
            "",
            "| quantity | Timeloop | sparsim | error | tolerance | result | why not held |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in o.comparisons:
            if c.quantity.startswith("energy share"):
                err = f"{c.error:+.1f} pp"
                ref, got = f"{c.reference:.1f}%", f"{c.sparsim:.1f}%"
            else:
                err = f"{c.error:+.1%}" if c.reference else "—"
                ref, got = _num(c.reference), _num(c.sparsim)
            verdict = _verdict(c.passed, "", c.held)
            if not c.held and c.passed:
                verdict = "within (not held)"
            lines.append(
                f"| {c.quantity} | {ref} | {got} | {err} | {c.tolerance} | {verdict} | "
                f"{c.why_not or '—'} |"
            )
        lines.append("")
    lines += _gaps(report) + _bench(report)
    return "\n".join(lines) + "\n"


def _gaps(report: Report) -> list[str]:
    """What the model cannot express yet: every known gap and every distinct reason a
    Timeloop comparison is not held, with how many comparisons it covers."""
    out = ["## What the model cannot express yet", ""]
    for c in report.anchors:
        if c.known_gap and f"- {c.case}: {c.known_gap}" not in out:
            out.append(f"- {c.case}: {c.known_gap}")
    reasons: dict[str, int] = {}
    for o in report.timeloop:
        for c in o.comparisons:
            for why in filter(None, (w.strip() for w in c.why_not.split(";"))):
                reasons[why] = reasons.get(why, 0) + 1
    for why, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
        out.append(f"- Timeloop ({n} comparisons): {why}")
    return [*out, ""]


def _bench(report: Report) -> list[str]:
    """The last `bench/mapping_speed.py` figures, when it has run in this checkout."""
    out = ["## Mapping speed (bench/mapping_speed.py)", ""]
    path = report.bench_json
    if path is None or not path.exists():
        return [*out, "Not run in this checkout: `.venv/bin/python bench/mapping_speed.py`.", ""]
    doc = json.loads(path.read_text())
    out.append(f"Last run {doc.get('when', '?')} (one process, CPU seconds on one core):")
    out.append("")
    for row in doc.get("rates", []):
        out.append(
            f"- {row['arch']} {row['sparsity']}: {row['mappings_per_s']:,.0f} valid mappings "
            f"per CPU second ({row['mappings_per_s'] / row['timeloop_per_s']:,.0f}x Timeloop's "
            f"mapper, {row['timeloop_per_s']:g}/s); {row['sims_per_s']:,.0f} full simulations/s"
        )
    rn = doc.get("resnet50")
    if rn:
        out.append(
            f"- ResNet-50 per-layer mapping search: sparsim {rn['sparsim_wall_s']:.1f} s wall / "
            f"{rn['sparsim_cpu_s']:.1f} s CPU, ZigZag 3.9.1 {rn['zigzag_wall_s']:.1f} s wall / "
            f"{rn['zigzag_cpu_s']:.1f} s CPU: {rn['ratio_cpu']:.0f}x by CPU time "
            f"({rn['ratio_wall']:.0f}x by wall time)"
        )
    return [*out, ""]


__all__ = ["render", "summary"]
