"""`sparsim verify`: run the RTL benches (cocotb on Verilator) against simulator.reference."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from hw.configs import BLOCKS, RtlConfig, configs
from sparsim.cli import common
from sparsim.cli.common import UsageError, non_negative_int

EXAMPLES = f"""blocks: {", ".join(BLOCKS)}

Every configuration of hw/configs.py (the CI matrix; --slow adds the full
cross product) is built once (sim_build/, reused until the RTL changes) and
its cocotb bench compares the RTL with simulator.reference every cycle.
A case is one unit of random stimulus: a cycle (nm_pe), a group
(nm_compressor), a word (pingpong_buf), a GEMM (ws_array, os_array).
Exit code 1 on any mismatch; its message names the first mismatching cycle,
the expected and actual values, the seed and the kept wave dump.

examples:
  sparsim verify                          all blocks, CI matrix, a random seed
  sparsim verify nm_compressor --seed 7   one block, replayable
  sparsim verify ws_array --cases 100     more GEMMs per test
  sparsim verify --slow --quiet           the full cross product, no progress bar"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help=common.COMMAND_HELP["verify"], epilog=EXAMPLES)
    p.add_argument("block", nargs="?", help="one block (default: all)")
    p.add_argument("--seed", type=non_negative_int, help="stimulus seed (default: random; printed)")
    p.add_argument("--cases", type=int, help="random cases per bench test (default: the bench's)")
    p.add_argument("--slow", action="store_true", help="also the slow configurations")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=verify)


class ProgressBar(common.ProgressBar):
    """The shared bar, labelled with the configuration and its stage."""

    def __call__(self, done: int, total: int, config: RtlConfig, stage: str) -> None:  # type: ignore[override]
        what = {"build": "building", "run": "running", "done": "done"}[stage]
        self.draw(done, total, f"{config.block} {config.id}: {what}")


def verify(args: argparse.Namespace) -> int:
    from hw.sim import SimulatorNotFoundError, resolve_seed
    from hw.verify import summarize, verify_configs

    if args.block is not None and args.block not in BLOCKS:
        raise UsageError("sparsim verify", "BLOCK", args.block, ", ".join(BLOCKS))
    if args.cases is not None and args.cases < 1:
        raise UsageError("sparsim verify", "--cases", args.cases, "an integer >= 1")
    chosen = configs(args.block, slow=args.slow)
    seed = resolve_seed(args.seed)
    if args.seed is not None:
        # The flag beats an exported SPARSIM_SEED (which hw.sim lets win otherwise).
        seed = args.seed
        os.environ["SPARSIM_SEED"] = str(seed)
    print(
        f"sparsim verify: {len(chosen)} configurations of "
        f"{len({c.block for c in chosen})} blocks, seed {seed} "
        f"(replay: sparsim verify{' ' + args.block if args.block else ''} --seed {seed}"
        f"{f' --cases {args.cases}' if args.cases else ''})",
        flush=True,
    )
    bar = ProgressBar(sys.stderr, enabled=common.progress_enabled(args.quiet))
    try:
        results = verify_configs(chosen, seed=seed, cases=args.cases, progress=bar)
    except SimulatorNotFoundError as err:
        print(f"sparsim verify: {err}", file=sys.stderr)
        return 1
    finally:
        bar.close()
    print(format_summary(summarize(results)))
    failed = [r for r in results if not r.passed]
    for r in failed:
        print(f"\nFAILED {r.config.block} {r.config.id} {dict(r.config.params)}:\n{r.message}")
    return 1 if failed else 0


def format_summary(blocks: Sequence) -> str:
    """The per-block table: configurations, cases, cycles, RTL cycles per second
    (inside the cocotb tests), build and bench-run seconds, result."""
    head = (
        f"{'block':<15} {'configs':>7} {'cases':>9} {'cycles':>10} {'cycles/s':>9} "
        f"{'build s':>8} {'run s':>7}  result"
    )
    lines = [head, "-" * len(head)]
    for b in blocks:
        lines.append(
            f"{b.block:<15} {b.configs:>7} {b.cases:>9,} {b.cycles:>10,} "
            f"{b.cycles_per_second:>9,.0f} {b.build_seconds:>8.1f} {b.run_seconds:>7.1f}  "
            f"{'pass' if b.passed else f'FAIL ({b.failed} of {b.configs})'}"
        )
    cycles = sum(b.cycles for b in blocks)
    run_s = sum(b.run_seconds for b in blocks)
    test_s = sum(b.test_seconds for b in blocks)
    lines.append("-" * len(head))
    lines.append(
        f"{'total':<15} {sum(b.configs for b in blocks):>7} {sum(b.cases for b in blocks):>9,} "
        f"{cycles:>10,} {cycles / test_s if test_s else 0:>9,.0f} "
        f"{sum(b.build_seconds for b in blocks):>8.1f} {run_s:>7.1f}  "
        f"{'pass' if all(b.passed for b in blocks) else 'FAIL'}"
    )
    return "\n".join(lines)
