"""cocotb bench of hw/rtl/os_array.sv against simulator.reference.SystolicArrayRef (OS).

Random GEMMs (shapes of one to about three folds each way, dense or N:M
sparse weights) run on the RTL and on the reference, whose per-edge trace is
driven into the array's ports with the skew taken out (hw/tb/array_bench.py);
every PE's output register is compared at every edge it is valid, the total
latency must match, and the outputs must equal A @ W. The OS array is the
same for both fold timings, so each build runs the reference's SERIALIZED
and OVERLAPPED schedules.

Run through pytest (tests/test_rtl_os_array.py); SPARSIM_SEED replays a run
and SPARSIM_CASES sets the GEMMs per random test.
"""

from __future__ import annotations

import cocotb

from hw.tb.array_bench import ArrayBench, random_gemms
from hw.tb.common import bench_cases, bench_rng, record_stats
from mappings.dataflow import Dataflow, FoldTiming

# GEMMs per random test (each is tens to hundreds of cycles).
DEFAULT_GEMMS = 30


@cocotb.test()
@cocotb.parametrize(timing=["serialized", "overlapped"], gaps=[False, True])
async def test_random_gemms(dut, timing: str, gaps: bool) -> None:
    """Seeded random GEMMs back to back, or with idle cycles and resets between them."""
    bench = ArrayBench(dut, Dataflow.OS, FoldTiming(timing))
    rng = bench_rng(f"os_array/random/{timing}/{gaps}")
    cases = bench_cases(DEFAULT_GEMMS)
    await random_gemms(dut, bench, rng, cases, gaps)
    record_stats(f"test_random_gemms/{timing}/{gaps}", cases=cases, cycles=bench.cycle)
