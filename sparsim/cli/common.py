"""Pieces every subcommand shares: the raising parser with "did you mean",
result tables, the per-layer table and its CSV, the progress bar.

Kept light: it imports only the result records (no numpy-heavy module), so
that `sparsim --help` and a mistyped command answer at once."""

from __future__ import annotations

import argparse
import csv
import difflib
import io
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

from simulator.results import Comparison, LayerResult, WorkloadResult
from workloads.errors import InputError, parse_decimal, printable

# one line each for `sparsim --help`, so it lists every command without importing them
COMMAND_HELP = {
    "run": "simulate a workload on an architecture",
    "prune": "prune a model's weights and save the workload",
    "verify": "check the RTL blocks against the reference model (cocotb on Verilator)",
    "validate": "hold sparsim to silicon, analytic anchors and Timeloop outputs",
    "presets": "list the architecture presets",
    "demo": "a GEMM and a conv, dense vs 2:4, on the edge preset",
    "sweep": "run a design-space sweep into a resumable result store",
    "export": "export a result store as CSV or JSON",
    "report": "write a self-contained HTML report of a result store",
    "study": "the co-design study: pruned digits models on every preset",
}


class UsageError(InputError):
    """A bad command-line argument."""


def did_you_mean(value: object, allowed: list[str] | str) -> str:
    """' (did you mean X?)' for the allowed word closest to `value`, or ''."""
    if not isinstance(value, str) or not value:
        return ""
    words = allowed if isinstance(allowed, list) else re.findall(r"[\w:.+-]+", allowed)
    words = [w.strip(",.;") for w in words]
    near = difflib.get_close_matches(value, [w for w in words if w != value], n=1, cutoff=0.6)
    return f" (did you mean {near[0]!r}?)" if near else ""


class Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so every bad input takes one path;
    a mistyped subcommand, choice or flag gets the nearest allowed one."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(
            self.prog, "arguments", " ".join(sys.argv[1:]), message + self._hint(message)
        )

    def _hint(self, message: str) -> str:
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            return did_you_mean(choice.group(1), re.findall(r"'([^']*)'", choice.group(2)))
        unknown = re.search(r"unrecognized arguments: (\S+)", message)
        if unknown:
            return did_you_mean(unknown.group(1).split("=")[0], _flags(self))
        return ""


def _flags(parser: argparse.ArgumentParser) -> list[str]:
    """Every option string of the parser and its subcommands' parsers."""
    flags = []
    for action in parser._actions:
        flags += action.option_strings
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                flags += _flags(sub)
    return flags


def non_negative_int(text: str) -> int:
    """argparse type of seeds and counts: an ASCII integer >= 0 (bad ones are usage errors)."""
    value = parse_decimal(text, max_digits=19)
    if value is None or value < 0:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not an integer >= 0")
    return value


def output_dir(text: str, flag: str = "-o", whole: str | None = None) -> Path:
    """The folder `-o` names, checked now (without creating it), so a bad one fails
    before the run: a file in the way, a name the OS refuses, an unwritable place
    such as /proc. The nearest existing folder gets a probe file (removed at once)."""
    path = Path(text)
    text = whole or text  # the argument as given (a file's folder is checked for output_json)
    allowed = "a folder that can be created and written"
    if "\x00" in text or len(text.encode()) > 4000:
        raise UsageError(flag, "output", text, f"{allowed} (a path of at most 4,000 bytes)")
    if any(len(part.encode()) > 200 for part in path.parts):
        raise UsageError(flag, "output", text, f"{allowed} (names of at most 200 bytes)")
    probe = path
    while not os.path.isdir(probe):
        if os.path.lexists(probe):
            raise UsageError(flag, "output", text, f"{allowed} ({probe} is a file)")
        probe = probe.parent
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as err:
        raise UsageError(flag, "output", text, f"{allowed} ({probe}: {err.strerror})") from None
    return path


def output_json(text: str, flag: str = "-o") -> Path:
    """The workload file `-o` names: a .json path whose folder can be written."""
    path = Path(text)
    if len(path.name.encode()) > 200:  # the temp file beside it adds a prefix and a suffix
        raise UsageError(flag, "output", text, "a file name of at most 200 bytes")
    if path.suffix.lower() != ".json" or os.path.isdir(path):
        raise UsageError(
            flag, "output", text, "a .json file path (its arrays go to a .npz beside it)"
        )
    output_dir(str(path.parent), flag, whole=text)
    for target in (path, path.with_suffix(".npz")):  # replaced by a rename: no folder there
        if os.path.isdir(target):
            raise UsageError(flag, "output", text, f"a path where {target.name} is not a folder")
    return path


def _fmt_int(v: float) -> str:
    return f"{v:,.0f}"


def format_table(rows: list[tuple[str, WorkloadResult, float | None]]) -> str:
    """One line per (label, result): cycles breakdown, utilization, energy, speedup."""
    head = (
        f"{'run':<34} {'mode':>5} {'compute':>13} {'fill/drain':>11} {'mem stall':>12} "
        f"{'total':>13} {'util':>6} {'energy uJ':>10} {'speedup':>8}"
    )
    lines = [head, "-" * len(head)]
    for label, res, speedup in rows:
        t = res.totals
        modes = sorted({lr.mode for lr in res.layers})
        lines.append(
            f"{label:<34} {'/'.join(modes):>5} {_fmt_int(t.cycles.compute):>13} "
            f"{_fmt_int(t.cycles.fill_drain):>11} {_fmt_int(t.cycles.memory_stall):>12} "
            f"{_fmt_int(t.cycles.total):>13} {t.utilization:>6.1%} "
            f"{t.energy_pj['total'] / 1e6:>10.2f} "
            f"{(f'{speedup:.3f}x' if speedup is not None else '-'):>8}"
        )
    return "\n".join(lines)


def table_rows(label: str, res: Comparison | WorkloadResult) -> list:
    """Rows for `format_table`: dense and sparse beside each other for a comparison."""
    if isinstance(res, WorkloadResult):
        return [(label, res, None)]
    return [
        (f"{label} dense", res.dense, 1.0),
        (f"{label} {res.sparse.sparsity}", res.sparse, res.speedup),
    ]


def fallback_lines(res: WorkloadResult) -> list[str]:
    """One line per distinct fallback: how many layers, the mode they ran, why."""
    groups: dict[tuple[str, str], list[str]] = {}
    for lr in res.layers:
        if lr.fallback:
            groups.setdefault((lr.mode, lr.fallback["reason"]), []).append(lr.name)
    lines = []
    for (mode, why), names in groups.items():
        which = names[0] if len(names) == 1 else f"{len(names)} of {len(res.layers)} layers"
        lines.append(f"fallback: {printable(which, 60)} ran {mode}: {why}")
    return lines


LAYER_COLUMNS = (
    "layer", "mode", "dataflow", "macs", "compute_cycles", "fill_drain_cycles",
    "memory_stall_cycles", "total_cycles", "utilization", "energy_pj", "dram_bytes",
    "dense_total_cycles", "speedup", "bound", "fallback",
)  # fmt: skip


def layer_records(res: Comparison | WorkloadResult) -> list[dict]:
    """Per layer (of the sparse run, its dense twin beside it): the `--layers`
    table and `--csv` rows. `bound` when the model reports one."""
    sparse = res if isinstance(res, WorkloadResult) else res.sparse
    dense = None if isinstance(res, WorkloadResult) else {lr.name: lr for lr in res.dense.layers}
    rows = []
    for lr in sparse.layers:
        twin: LayerResult | None = dense.get(lr.name) if dense else None
        rows.append(
            {
                "layer": lr.name,
                "mode": lr.mode,
                "dataflow": lr.dataflow,
                "macs": lr.macs,
                "compute_cycles": lr.cycles.compute,
                "fill_drain_cycles": lr.cycles.fill_drain,
                "memory_stall_cycles": lr.cycles.memory_stall,
                "total_cycles": lr.cycles.total,
                "utilization": lr.utilization,
                "energy_pj": lr.energy_pj["total"],
                "dram_bytes": lr.dram_bytes,
                "dense_total_cycles": twin.cycles.total if twin else None,
                "speedup": twin.cycles.total / lr.cycles.total
                if twin and lr.cycles.total
                else None,
                "bound": lr.bound,
                "fallback": lr.fallback["reason"] if lr.fallback else None,
            }
        )
    return rows


def format_layers(records: list[dict]) -> str:
    has_bound = any(r["bound"] for r in records)
    head = (
        f"{'layer':<28} {'mode':>6} {'df':>3} {'total cycles':>13} {'stall':>10} {'util':>6} "
        f"{'energy uJ':>10} {'speedup':>8}" + (f" {'bound':>8}" if has_bound else "")
    )
    lines = [head, "-" * len(head)]
    for r in records:
        speedup = f"{r['speedup']:.3f}x" if r["speedup"] is not None else "-"
        lines.append(
            f"{printable(r['layer'], 28):<28} {r['mode'] + ('*' if r['fallback'] else ''):>6} "
            f"{r['dataflow']:>3} {_fmt_int(r['total_cycles']):>13} "
            f"{_fmt_int(r['memory_stall_cycles']):>10} {r['utilization']:>6.1%} "
            f"{r['energy_pj'] / 1e6:>10.2f} {speedup:>8}"
            + (f" {r['bound'] or '-':>8}" if has_bound else "")
        )
    if any(r["fallback"] for r in records):
        lines.append("* fell back: the array could not use this layer's sparsity (fully)")
    return "\n".join(lines)


def layers_csv(records: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=LAYER_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in records:
        writer.writerow({k: "" if r[k] is None else r[k] for k in LAYER_COLUMNS})
    return buf.getvalue()


class ProgressBar:
    """One line on a terminal (stderr), redrawn in place; silent when off, and
    drawn only once the job has run `delay_s` (short runs show nothing)."""

    def __init__(self, out: TextIO, enabled: bool, width: int = 24, delay_s: float = 0.0) -> None:
        self.out, self.enabled, self.width, self.delay_s = out, enabled, width, delay_s
        self.start = time.monotonic()
        self.drawn = False

    def draw(self, done: int, total: int, what: str = "") -> None:
        if not self.enabled or time.monotonic() - self.start < self.delay_s:
            return
        filled = self.width * done // max(total, 1)
        bar = "#" * filled + "-" * (self.width - filled)
        self.out.write(f"\r\033[K[{bar}] {done}/{total}{' ' + what if what else ''}")
        self.out.flush()
        self.drawn = True

    def __call__(self, done: int, total: int, *context: object) -> None:
        self.draw(done, total)

    def close(self) -> None:
        if self.drawn:
            self.out.write("\r\033[K")
            self.out.flush()


def progress_enabled(quiet: bool, out: TextIO | None = None) -> bool:
    """A bar only for a person watching: stderr a terminal and no --quiet."""
    out = out if out is not None else sys.stderr
    return not quiet and out.isatty()
