"""Cycle-by-cycle reference models: the golden models for the RTL in `hw/rtl/`.

Every class steps registers exactly as the matching SystemVerilog does: one
call to `step` is one rising clock edge, and state names mirror the RTL's
`_q` flops. They are slow on purpose (plain Python) and run on small arrays
only; the tile model is proven equal to them (tests/test_tile_vs_reference.py).

One module per block: `pe` (the N:M PEs of each dataflow, the N:M compressor
rule), `array` (the systolic array, one model for WS / IS / OS and both fold
timings, with a per-cycle trace for RTL benches).
"""

from simulator.reference.array import (
    ArrayRun,
    CycleIO,
    LeftIn,
    OutputBeat,
    SystolicArrayRef,
    TopIn,
    WSArrayRef,
)
from simulator.reference.buffer import PingPongBufferRef
from simulator.reference.compressor import NMCompressorRef
from simulator.reference.pe import NMPE, NMPEIS, NMPEOS, nm_compress, wrap

__all__ = [
    "NMPE",
    "NMPEIS",
    "NMPEOS",
    "ArrayRun",
    "CycleIO",
    "LeftIn",
    "NMCompressorRef",
    "OutputBeat",
    "PingPongBufferRef",
    "SystolicArrayRef",
    "TopIn",
    "WSArrayRef",
    "nm_compress",
    "wrap",
]
