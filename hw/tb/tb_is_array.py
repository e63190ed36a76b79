"""cocotb bench of hw/rtl/is_array.sv against simulator.reference.SystolicArrayRef (IS).

Random GEMMs (shapes of one to about three folds each way, dense or N:M
sparse weights) run on the RTL and on the reference, whose per-edge trace is
driven into the array's ports with the skew taken out (hw/tb/array_bench.py);
every valid output is compared at every edge, the total latency must match,
and the outputs summed over the folds must equal A @ W. The fold timing is
the build's: Overlapped = 1 runs the reference's OVERLAPPED schedule (shadow
inputs, swap bit), 0 its SERIALIZED one.

Run through pytest (tests/test_rtl_is_array.py); SPARSIM_SEED replays a run
and SPARSIM_CASES sets the GEMMs per random test.
"""

from __future__ import annotations

import cocotb

from hw.tb.array_bench import ArrayBench, random_gemms
from hw.tb.common import bench_cases, bench_rng, record_stats
from mappings.dataflow import Dataflow

# GEMMs per random test (each is tens to hundreds of cycles).
DEFAULT_GEMMS = 30


@cocotb.test()
@cocotb.parametrize(gaps=[False, True])
async def test_random_gemms(dut, gaps: bool) -> None:
    """Seeded random GEMMs back to back, or with idle cycles and resets between them."""
    bench = ArrayBench(dut, Dataflow.IS)
    rng = bench_rng(f"is_array/random/{gaps}")
    cases = bench_cases(DEFAULT_GEMMS)
    await random_gemms(dut, bench, rng, cases, gaps)
    record_stats(f"test_random_gemms/{gaps}", cases=cases, cycles=bench.cycle)
