"""Data movement between DRAM, the global buffer (GLB) and the PE array.

Loop nest per layer: column folds outer, row folds inner. The stationary
tile of each fold is loaded once; the streamed operand stays in the GLB
across column folds when it fits (else it is re-read from DRAM per column
fold); partial sums accumulate in the GLB and leave once per column fold
(WS/IS) or per fold (OS, where the output tile is the stationary operand).

Transfers are double-buffered: fold f's DRAM loads may run while fold f-1
computes. The DRAM channel is shared by loads and output write-backs. The
stall is what this schedule adds to the array's own compute cycles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mappings.dataflow import Dataflow
from simulator.arch import ArchSpec
from simulator.tile_model import ComputeTiming, ceil_div
from workloads.layers import GemmShape
from workloads.sparsity import NM


@dataclass(frozen=True, slots=True)
class OperandBits:
    """Storage bits of each operand of a GEMM in its format at every level."""

    weight_bits: int  # compressed when the layer runs an N:M pattern (metadata included)
    weight_metadata_bits: int
    input_bits: int
    output_bits: int
    psum_bits_per_output: int


def operand_bits(
    gemm: GemmShape, input_elements: int, arch: ArchSpec, pattern: NM | None
) -> OperandBits:
    """Bits of W (K x N), the input tensor and O (M x N); N:M weights as values + indices.

    `input_elements` is the stored input tensor (a conv's ifmap, not its im2col).
    """
    pe = arch.pe_array
    data = pe.data_bits
    if pattern is None:
        weight_bits, meta = gemm.k * gemm.n * data, 0
    else:
        win = pe.window(pattern)
        slots = ceil_div(gemm.k, win) * pe.multipliers * gemm.n
        meta = slots * max(1, math.ceil(math.log2(win)))
        weight_bits = slots * data + meta
    return OperandBits(
        weight_bits, meta, input_elements * data, gemm.m * gemm.n * data, pe.acc_bits
    )


@dataclass(frozen=True, slots=True)
class MemoryResult:
    stall_cycles: int
    dram_read_bytes: int
    dram_write_bytes: int
    glb_read_bytes: int
    glb_write_bytes: int
    streamed_operand_resident: bool

    @property
    def dram_bytes(self) -> int:
        return self.dram_read_bytes + self.dram_write_bytes


def simulate_memory(
    gemm: GemmShape,
    input_elements: int,
    arch: ArchSpec,
    dataflow: Dataflow,
    pattern: NM | None,
    timing: ComputeTiming,
) -> MemoryResult:
    """DRAM/GLB traffic of a layer and the stall cycles it adds (double buffering)."""
    bits = operand_bits(gemm, input_elements, arch, pattern)
    grid = timing.grid
    rf, cf = grid.row_folds, grid.col_folds
    w_bytes, a_bytes = bits.weight_bits / 8, bits.input_bits / 8
    o_bytes = bits.output_bits / 8
    psum_bytes_per_output = bits.psum_bits_per_output / 8

    if dataflow is Dataflow.WS:
        stationary, streamed = w_bytes, a_bytes
        psum_tile = gemm.m * min(gemm.n, arch.pe_array.cols) * psum_bytes_per_output
    elif dataflow is Dataflow.IS:
        stationary, streamed = a_bytes, w_bytes
        psum_tile = gemm.n * min(gemm.m, arch.pe_array.cols) * psum_bytes_per_output
    else:  # OS: operand rows stream by M tile (A) and N tile (W)
        stationary, streamed = 0.0, a_bytes
        psum_tile = arch.pe_array.rows * arch.pe_array.cols * psum_bytes_per_output
    stationary_tile = stationary / grid.folds
    # the streamed operand stays resident if it fits beside two stationary tiles and the psums
    resident = streamed + 2 * stationary_tile + psum_tile <= arch.glb.capacity_bytes
    streamed_slice = streamed / rf

    # per-fold DRAM loads, in fold order (column folds outer)
    loads = np.full((cf, rf), stationary_tile)
    if resident:
        loads[0, :] += streamed_slice
    else:
        loads += streamed_slice
    if dataflow is Dataflow.OS:
        loads[:, 0] += w_bytes / cf  # the weight column tile, reused across row folds
        writes_per_fold = np.full((cf, rf), o_bytes / grid.folds)
    else:
        writes_per_fold = np.zeros((cf, rf))
        writes_per_fold[:, -1] = o_bytes / cf
    stall = _double_buffered_stall(
        loads.ravel(),
        writes_per_fold.ravel(),
        timing.cycles_per_fold,
        arch.dram.bandwidth_bytes_per_cycle,
        arch.dram.latency_cycles,
    )

    dram_read = float(loads.sum())
    dram_write = o_bytes
    # GLB: every DRAM byte is written into it (outputs are written into it by the array);
    # the array reads the stationary tiles and the streamed operand once per fold, and
    # reads back partial sums for every row fold after the first.
    # the array reads the lowered (im2col) operand: M x K activations per column fold
    lowered = (
        gemm.m * gemm.k * arch.pe_array.data_bits / 8 if dataflow is not Dataflow.IS else streamed
    )
    streamed_reads = lowered * cf
    psum_traffic = psum_tile * cf * max(rf - 1, 0)
    glb_read = stationary + streamed_reads + psum_traffic + o_bytes
    glb_write = dram_read + psum_traffic + o_bytes
    return MemoryResult(
        stall_cycles=stall,
        dram_read_bytes=round(dram_read),
        dram_write_bytes=round(dram_write),
        glb_read_bytes=round(glb_read),
        glb_write_bytes=round(glb_write),
        streamed_operand_resident=resident,
    )


def _double_buffered_stall(
    load_bytes: np.ndarray,
    write_bytes: np.ndarray,
    compute_per_fold: int,
    bandwidth: float,
    latency: int,
) -> int:
    """Cycles the DRAM schedule adds to back-to-back compute of the folds.

    Two buffers per operand: fold f's load may start once fold f-1 has started
    computing (its buffer, used by fold f-2, is then free) and the DRAM
    channel is free. Fold f computes when fold f-1 is done and its data is in.
    A fold's output write-back queues on the channel after it computes.
    """
    channel_free = 0.0
    compute_end = 0.0
    prev_start = 0.0
    for load, write in zip(load_bytes.tolist(), write_bytes.tolist(), strict=True):
        load_start = max(channel_free, prev_start)
        load_end = load_start + (latency + load / bandwidth if load else 0.0)
        channel_free = load_end
        start = max(compute_end, load_end)
        compute_end = start + compute_per_fold
        prev_start = start
        if write:
            channel_free = max(channel_free, compute_end) + write / bandwidth
    end = max(compute_end, channel_free)
    return math.ceil(end - compute_per_fold * len(load_bytes))
