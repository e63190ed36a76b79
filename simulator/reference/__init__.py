"""Cycle-by-cycle reference models: the golden models for the RTL in `hw/rtl/`.

Every class steps registers exactly as the matching SystemVerilog does: one
call to `step` is one rising clock edge, and state names mirror the RTL's
`_q` flops. They are slow on purpose (plain Python) and run on small arrays
only; the tile model is proven equal to them (tests/test_tile_vs_reference.py).

One module per block: `pe` (N:M PE, N:M compressor rule), `array` (systolic
arrays).
"""

from simulator.reference.array import ArrayRun, WSArrayRef
from simulator.reference.pe import NMPE, nm_compress, wrap

__all__ = ["NMPE", "ArrayRun", "WSArrayRef", "nm_compress", "wrap"]
