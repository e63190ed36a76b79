"""cocotb test modules, one per RTL block (`tb_<block>.py`), plus shared helpers.

These modules run inside the simulator process started by `hw.sim.run_cocotb`;
they are not pytest files.
"""
