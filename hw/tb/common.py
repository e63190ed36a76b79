"""Helpers shared by the cocotb benches; they run inside the simulator process.

A bench takes its sizes from the DUT (`dut_params`, checked against the
parameters the runner built with), seeds its stimulus with `bench_rng`
(`SPARSIM_SEED` replays a run), runs `bench_cases()` cases, and compares every
output every cycle with `check_outputs`, which fails on the first mismatching
cycle naming the signals, the expected and the actual values. At the end of
each test it notes its cases and cycles with `record_stats` (for
`sparsim verify`) and checks its coverage with `check_coverage`.
"""

from __future__ import annotations

import json
import logging
import os
import random
from collections.abc import Callable, Iterable, Mapping, Sequence

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

logger = logging.getLogger("cocotb.sparsim")

DEFAULT_CASES = 1000
# Every bench's clock period.
CLOCK_NS = 10


def bench_seed() -> int:
    """The run's seed: $SPARSIM_SEED (set by hw.sim.run_cocotb), else cocotb's seed."""
    text = os.environ.get("SPARSIM_SEED")
    return int(text, 0) if text else cocotb.RANDOM_SEED


def bench_rng(key: str) -> random.Random:
    """A generator for one test, from the run's seed and a key naming the test.

    Each test gets its own stream, so a test replays alone (COCOTB_TEST_FILTER)
    with the same stimulus as in the full run.
    """
    seed = bench_seed()
    logger.info("stimulus seed %d, key %r (replay: SPARSIM_SEED=%d)", seed, key, seed)
    return random.Random(f"{seed}/{key}")


def bench_cases(default: int = DEFAULT_CASES) -> int:
    """Random cases per test (a bench's unit: cycles, groups, words, GEMMs):
    $SPARSIM_CASES, else `default`."""
    text = os.environ.get("SPARSIM_CASES")
    cases = int(text, 0) if text else default
    if cases < 1:
        raise ValueError(f"SPARSIM_CASES = {cases}; need >= 1")
    return cases


def record_stats(test: str, *, cases: int, cycles: int) -> None:
    """Note what one test did (random cases, clock cycles simulated) for the runner.

    hw.sim.run_cocotb points $SPARSIM_STATS at a JSON-lines file in the run
    folder and sums the records into CocotbRun.cases / CocotbRun.cycles.
    """
    path = os.environ.get("SPARSIM_STATS")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"test": test, "cases": cases, "cycles": cycles}) + "\n")


# Below this many random cases a bench does not insist on its random coverage
# items (a short run may by chance have no stall); directed openings still count.
MIN_COVERAGE_CASES = 100


def check_coverage(coverage: Mapping[str, int], items: Iterable[str], cases: int) -> None:
    """Fail if a coverage item never happened, in runs of at least MIN_COVERAGE_CASES."""
    if cases < MIN_COVERAGE_CASES:
        return
    missing = [item for item in items if not coverage.get(item)]
    assert not missing, f"stimulus never produced {missing}: {dict(coverage)}"


def dut_params(dut, names: Iterable[str]) -> dict[str, int]:
    """Read integer parameters from the DUT and check them against the build.

    Verilator exposes parameters through VPI (cocotb builds with
    --public-flat-rw). Every parameter the runner built with
    ($SPARSIM_RTL_PARAMS) must equal the DUT's value, so the model and the RTL
    cannot drift apart.
    """
    built = json.loads(os.environ.get("SPARSIM_RTL_PARAMS", "{}"))
    wanted = sorted({*names, *built})
    values = {}
    for name in wanted:
        handle = getattr(dut, name, None)
        if handle is None:
            raise AttributeError(f"parameter {name} not visible on {dut._name} (VPI)")
        values[name] = int(handle.value)
    drift = {k: (v, values[k]) for k, v in built.items() if int(v) != values[k]}
    if drift:
        raise AssertionError(f"DUT parameters differ from the build's (built, DUT): {drift}")
    logger.info("%s parameters: %s", dut._name, values)
    return values


def to_signed(value: int, bits: int) -> int:
    """Interpret the low `bits` bits of `value` as two's complement."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def pack(values: Sequence[int], width: int) -> int:
    """Flat packed vector: element j at bits [j*width +: width] (two's complement)."""
    mask = (1 << width) - 1
    word = 0
    for j, v in enumerate(values):
        word |= (int(v) & mask) << (j * width)
    return word


def unpack(word: int, count: int, width: int, *, signed: bool) -> list[int]:
    """Inverse of `pack`: `count` elements of `width` bits, signed or not."""
    mask = (1 << width) - 1
    items = [(word >> (j * width)) & mask for j in range(count)]
    return [to_signed(v, width) for v in items] if signed else items


def check_outputs(
    cycle: int,
    expected: Mapping[str, object],
    actual: Mapping[str, object],
    context: str = "",
) -> None:
    """Fail unless every output equals the model's; names every wrong signal."""
    wrong = [name for name in expected if expected[name] != actual[name]]
    if not wrong:
        return
    lines = [f"cycle {cycle}: {wrong[0]} = {actual[wrong[0]]!r}, expected {expected[wrong[0]]!r}"]
    lines += [f"  also {n} = {actual[n]!r}, expected {expected[n]!r}" for n in wrong[1:]]
    if context:
        lines.append(f"  {context}")
    raise AssertionError("\n".join(lines))


async def clock_and_reset(dut, on_reset: Callable[[], None] = lambda: None) -> None:
    """Start the clock and hold `rst_ni` low for two cycles; `on_reset` runs at the
    last falling edge in reset (reset the model, compare). Ends at a falling edge."""
    dut.rst_ni.value = 0
    cocotb.start_soon(Clock(dut.clk_i, CLOCK_NS, unit="ns").start())
    for _ in range(2):
        await FallingEdge(dut.clk_i)
    on_reset()
    dut.rst_ni.value = 1
