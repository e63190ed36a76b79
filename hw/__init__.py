"""SystemVerilog blocks of sparsim and their cocotb benches.

`hw/rtl/` holds the RTL (one module per file), `hw/tb/` the cocotb test
modules that check each block cycle by cycle against `simulator.reference`,
and `hw.sim` builds and runs them on Verilator.
"""
