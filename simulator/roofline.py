"""The roofline bound: instant, never above the tile model (for the mapper to prune).

compute: the PE-cycles the layer needs, m x (reduction steps x output
columns that hold work) per group, spread over every PE (activation
skipping compacts the stream); memory: the compulsory DRAM traffic (every
operand once, in its stored format) at the DRAM bandwidth. The bound is
the larger. The tile model is at least this: its folds cover every needed
PE-cycle, and its DRAM channel moves at least the compulsory bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulator.arch import ArchSpec
from simulator.simulate import plan_layer
from simulator.sparse_modes import reduction_nonzero
from workloads.workload import LayerWorkload


@dataclass(frozen=True, slots=True)
class Roofline:
    compute_cycles: int
    memory_cycles: int

    @property
    def cycles(self) -> int:
        return max(self.compute_cycles, self.memory_cycles)

    @property
    def bound(self) -> str:
        return "compute" if self.compute_cycles >= self.memory_cycles else "memory"


def roofline(lw: LayerWorkload, arch: ArchSpec) -> Roofline:
    plan = plan_layer(lw, arch)
    pe = arch.pe_array
    g = plan.gemm
    if plan.mask is not None:
        cells = int(np.count_nonzero(reduction_nonzero(plan.mask, pe.window(plan.pattern))))
    else:
        cells = plan.groups * pe.reduction_steps(g.k, plan.pattern) * g.n
    work = g.m * cells * (plan.activation_density if plan.skip_activations else 1.0)
    compute = math.ceil(work / (pe.pes * arch.cores))  # every core's PEs
    s = plan.sizes
    compulsory = plan.groups * (s.weights + s.compulsory_inputs + s.outputs)
    bw = arch.dram.bandwidth_bytes_per_cycle
    memory = 0 if math.isinf(bw) else math.ceil(compulsory / bw)
    return Roofline(compute, memory)
