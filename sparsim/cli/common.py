"""Pieces every subcommand shares: the raising parser, result tables."""

from __future__ import annotations

import argparse
import sys

from simulator.results import Comparison, WorkloadResult
from workloads.errors import InputError


class UsageError(InputError):
    """A bad command-line argument."""


class Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so every bad input takes one path."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(self.prog, "arguments", " ".join(sys.argv[1:]), message)


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
