"""Run the RTL benches of hw.configs and summarize them (what `sparsim verify` runs).

No printing here: progress goes through a callback and the results come back
as frozen records; the CLI (sparsim/cli/verify.py) draws the bar and the
table and picks the exit code.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hw.configs import RtlConfig
from hw.sim import SimulatorNotFoundError, build_rtl, run_cocotb

# progress(done, total, config, stage): stage is "build", "run" or "done".
Progress = Callable[[int, int, RtlConfig, str], None]


@dataclass(frozen=True, slots=True)
class ConfigResult:
    """One configuration's build and bench run."""

    config: RtlConfig
    passed: bool
    cases: int = 0
    cycles: int = 0
    build_seconds: float = 0.0
    run_seconds: float = 0.0  # the bench process, start-up included
    test_seconds: float = 0.0  # inside the cocotb tests (cycles per second use this)
    message: str = ""  # why it failed: the first mismatch, seed, log and waves


@dataclass(frozen=True, slots=True)
class BlockSummary:
    """Every configuration of one block, added up."""

    block: str
    configs: int
    failed: int
    cases: int
    cycles: int
    build_seconds: float
    run_seconds: float
    test_seconds: float

    @property
    def passed(self) -> bool:
        return self.failed == 0

    @property
    def cycles_per_second(self) -> float:
        """RTL clock cycles per second inside the cocotb tests (bench and model included)."""
        return self.cycles / self.test_seconds if self.test_seconds > 0 else 0.0


def verify_configs(
    configs: Sequence[RtlConfig],
    *,
    seed: int,
    cases: int | None = None,
    progress: Progress | None = None,
) -> list[ConfigResult]:
    """Build (or reuse) and run every configuration's bench; a mismatch or a
    failed build is a failed result, not an exception. A missing simulator
    raises SimulatorNotFoundError."""
    results = []
    for i, config in enumerate(configs):
        if progress:
            progress(i, len(configs), config, "build")
        start = time.monotonic()
        try:
            build = build_rtl(config.block, **config.build_options())
        except SimulatorNotFoundError:
            raise
        except (RuntimeError, FileNotFoundError) as exc:
            results.append(ConfigResult(config, False, message=str(exc)))
            continue
        built = time.monotonic() - start
        if progress:
            progress(i, len(configs), config, "run")
        try:
            run = run_cocotb(build, config.bench, seed=seed, cases=cases, extra_env=config.env)
        except AssertionError as exc:
            ran = time.monotonic() - start - built
            results.append(ConfigResult(config, False, 0, 0, built, ran, 0.0, str(exc)))
        else:
            results.append(
                ConfigResult(
                    config, True, run.cases, run.cycles, built, run.seconds, run.test_seconds
                )
            )
        if progress:
            progress(i + 1, len(configs), config, "done")
    return results


def summarize(results: Sequence[ConfigResult]) -> list[BlockSummary]:
    """One BlockSummary per block, in the order the blocks first appear."""
    blocks = list(dict.fromkeys(r.config.block for r in results))
    out = []
    for block in blocks:
        mine = [r for r in results if r.config.block == block]
        out.append(
            BlockSummary(
                block=block,
                configs=len(mine),
                failed=sum(not r.passed for r in mine),
                cases=sum(r.cases for r in mine),
                cycles=sum(r.cycles for r in mine),
                build_seconds=sum(r.build_seconds for r in mine),
                run_seconds=sum(r.run_seconds for r in mine),
                test_seconds=sum(r.test_seconds for r in mine),
            )
        )
    return out
