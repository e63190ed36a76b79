"""Pieces every subcommand shares: the raising parser, result tables."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from simulator.results import Comparison, WorkloadResult
from workloads.errors import InputError, parse_decimal


class UsageError(InputError):
    """A bad command-line argument."""


class Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so every bad input takes one path."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(self.prog, "arguments", " ".join(sys.argv[1:]), message)


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
    if isinstance(res, Comparison):
        return [
            (f"{label} dense", res.dense, 1.0),
            (f"{label} {res.sparse.sparsity}", res.sparse, res.speedup),
        ]
    return [(label, res, None)]
