"""`sparsim presets`: list the architecture presets."""

from __future__ import annotations

import argparse

from simulator.arch import preset_names
from simulator.load import load_arch
from sparsim.cli.common import COMMAND_HELP


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "presets", help=COMMAND_HELP["presets"], epilog="examples:\n  sparsim presets"
    )
    p.set_defaults(func=presets)


def presets(args: argparse.Namespace) -> int:
    for name in preset_names():
        arch = load_arch(name)
        pe = arch.pe_array
        pats = ", ".join(str(p) for p in pe.nm_patterns) or "dense only"
        levels = " > ".join(lv.name for lv in arch.memory.levels)
        host = arch.memory.host
        if host is not None:
            held = "+".join(op.value for op in host.holds)
            levels += f"; host {host.bandwidth_bytes_per_cycle:g} B/cycle ({held})"
        if arch.cores > 1:  # per core: its array and the levels below the shared ones
            levels += f"; {arch.cores} cores share {' > '.join(arch.shared_levels)}"
        cores = f"{arch.cores} x " if arch.cores > 1 else ""
        print(
            f"{name:<12} {cores}{pe.rows}x{pe.cols} {pe.dataflow.value.upper()} "
            f"{pe.multipliers} mult/PE ({pats}), {pe.fold_timing} folds, "
            f"GLB {(arch.glb.capacity_bytes or 0) // 1024} KiB{' per core' if cores else ''}, "
            f"DRAM {arch.dram.bandwidth_bytes_per_cycle:g} B/cycle @ {arch.clock_mhz:g} MHz "
            f"[{levels}]"
        )
    return 0
