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


def output_dir(text: str, flag: str = "-o") -> Path:
    """The folder `-o` names, created (and test-written) now, so a bad one fails
    before the run: a file in the way, an unwritable parent, /proc."""
    path = Path(text)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except (OSError, ValueError) as err:  # ValueError: a NUL byte in the path
        reason = getattr(err, "strerror", None) or str(err)
        raise UsageError(
            flag, "output", text, f"a folder that can be created and written ({reason})"
        ) from None
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
    output_dir(str(path.parent), flag)
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
