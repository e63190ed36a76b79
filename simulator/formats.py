"""Bytes of each operand as stored in DRAM and the GLB, in its compressed format.

DESIGN.md: formats change the bits stored and moved at every memory level,
and metadata is counted, never free. Per group of a layer's GEMM
(W: K x N with `nnz` nonzeros, b data bits):

    dense     K * N * b
    nm        ceil(K / m) * N groups of n values (b bits) + n indices (ceil(log2 m) bits),
              for the n:m mode the array runs (dense when it runs dense)
    bitmask   K * N mask bits + nnz * b
    csr       nnz * (b + ceil(log2 K)) column indices + (N + 1) row pointers of
              ceil(log2(nnz + 1)) bits (one row per output column)

Activations: dense, or bitmask (one bit per element + the nonzero values).
Outputs leave at b bits; partial sums that spill to DRAM at the accumulator width.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from mappings.dataflow import Operand
from simulator.arch import ActivationFormat, ArchSpec, WeightFormat
from workloads.layers import GemmShape
from workloads.sparsity import NM
from workloads.window import InputWindow


def _log2(x: int) -> int:
    return math.ceil(math.log2(x)) if x > 1 else 0


@dataclass(frozen=True, slots=True)
class OperandBytes:
    """Stored bytes of one group's GEMM operands (metadata included, and separately)."""

    weights: float
    weight_metadata: float
    inputs: float
    input_metadata: float
    outputs: float  # O at data bits
    psums: float  # O at accumulator bits
    weight_format: WeightFormat

    @property
    def weight_compression(self) -> float:
        """Stored over dense weight bytes."""
        return self.weights / self._dense_weights if self._dense_weights else 1.0

    _dense_weights: float = 0.0
    # a convolution's sliding window: an input tile is the box of ifmap its rows
    # and reduction range touch, not tm x tk (None: a plain matrix operand)
    window: InputWindow | None = None

    @property
    def compulsory_inputs(self) -> float:
        """Input bytes that must cross at least once: the whole input, or of a
        conv the elements some output reads (its box also holds rows a stride skips)."""
        if self.window is None:
            return self.inputs
        return self.inputs * self.window.distinct_elements / self.window.elements

    def input_element_bytes(self, gemm: GemmShape) -> float:
        """Bytes of one input element as stored (the array reads the im2col
        stream element by element)."""
        if self.window is None:
            return self.inputs / (gemm.m * gemm.k)
        return self.inputs / self.window.elements

    def input_footprint_bytes(
        self,
        gemm: GemmShape,
        m_chain: tuple[int, ...],
        k_chain: tuple[int, ...],
        slide: tuple[str, int] | None = None,
    ) -> tuple[float, float]:
        """(all tiles, the largest tile) of the input, in bytes, for the tiles the
        chains of sizes (outer to inner) cut the GEMM into. `slide` = (axis,
        depth): the innermost moving loop above the level runs over that GEMM
        axis inside the tiles of chain depth `depth`; what successive tiles
        share is not fetched again (`InputWindow.sliding_overlap`)."""
        if self.window is None:
            tm, tk = m_chain[-1], k_chain[-1]
            return self.inputs, self.inputs * min(tm, gemm.m) * min(tk, gemm.k) / (gemm.m * gemm.k)
        return _footprint_bytes(self.window, self.inputs, m_chain, k_chain, slide)

    def tile_bytes(
        self,
        gemm: GemmShape,
        tile: tuple[int, int, int],
        chain: tuple[tuple[int, int, int], ...] = (),
    ) -> dict[Operand, float]:
        """Bytes one (tm, tn, tk) tile of each operand takes (outputs at the
        accumulator width: a tile holds partial sums until its K is done).
        A conv's input tile is its largest footprint; `chain`: the tiles of the
        levels outside it, outer to inner (they decide where its tiles start)."""
        tm, tn, tk = tile
        if self.window is None:
            inputs = self.inputs * tm * tk / (gemm.m * gemm.k)
        else:
            m_chain = (*(t[0] for t in chain), tm)
            k_chain = (*(t[2] for t in chain), tk)
            inputs = self.input_footprint_bytes(gemm, m_chain, k_chain)[1]
        return {
            Operand.INPUTS: inputs,
            Operand.WEIGHTS: self.weights * tk * tn / (gemm.k * gemm.n),
            Operand.OUTPUTS: self.psums * tm * tn / (gemm.m * gemm.n),
        }


@functools.lru_cache(maxsize=8192)
def _footprint_bytes(
    window: InputWindow,
    inputs: float,
    m_chain: tuple[int, ...],
    k_chain: tuple[int, ...],
    slide: tuple[str, int] | None,
) -> tuple[float, float]:
    total, largest = footprints(window, m_chain, k_chain)
    if slide is not None:
        total -= overlap(window, m_chain, k_chain, *slide)
    b = inputs / window.elements
    return total * b, largest * b


@functools.lru_cache(maxsize=4096)
def footprints(
    window: InputWindow, m_chain: tuple[int, ...], k_chain: tuple[int, ...]
) -> tuple[float, float]:
    """`InputWindow.footprints`, remembered: a mapping search asks again for the
    same tile sizes (capacity, accesses, steps)."""
    return window.footprints(m_chain, k_chain)


@functools.lru_cache(maxsize=4096)
def overlap(
    window: InputWindow, m_chain: tuple[int, ...], k_chain: tuple[int, ...], axis: str, depth: int
) -> float:
    """`InputWindow.sliding_overlap`, remembered."""
    return window.sliding_overlap(m_chain, k_chain, axis, depth)


def resolve_weight_format(
    arch: ArchSpec, pattern: NM | None, k: int = 0, n: int = 0
) -> WeightFormat:
    """AUTO: N:M values + indices when the array runs an N:M mode and that is
    smaller than dense (a short K pads groups: then dense, compressed on chip
    by the N:M compressor in front of the array), else dense."""
    fmt = arch.memory.weight_format
    if fmt is WeightFormat.NM and pattern is None:
        return WeightFormat.DENSE  # nothing to index: the array runs dense
    if fmt is not WeightFormat.AUTO:
        return fmt
    if pattern is None:
        return WeightFormat.DENSE
    b = arch.pe_array.w_bits
    nm_bits, _ = weight_bits(k, n, 0, b, WeightFormat.NM, pattern)
    return WeightFormat.NM if nm_bits <= k * n * b else WeightFormat.DENSE


def weight_bits(
    k: int, n: int, nnz: float, data_bits: int, fmt: WeightFormat, pattern: NM | None
) -> tuple[float, float]:
    """(total bits, metadata bits) of a K x N weight matrix with `nnz` nonzeros."""
    if fmt is WeightFormat.DENSE:
        return float(k * n * data_bits), 0.0
    if fmt is WeightFormat.NM:
        assert pattern is not None
        slots = math.ceil(k / pattern.m) * n * pattern.n
        meta = slots * _log2(pattern.m)
        return float(slots * data_bits + meta), float(meta)
    if fmt is WeightFormat.BITMASK:
        meta = k * n
        return nnz * data_bits + meta, float(meta)
    # CSR, one row per output column: column (K) indices and row pointers
    meta = nnz * _log2(k) + (n + 1) * _log2(round(nnz) + 1)
    return nnz * data_bits + meta, float(meta)


def operand_bytes(
    k: int,
    n: int,
    m: int,
    weight_nnz: float,
    input_elements: float,
    activation_density: float,
    arch: ArchSpec,
    pattern: NM | None,
    dense_weights: bool = False,
    window: InputWindow | None = None,
) -> OperandBytes:
    """Stored bytes of one group's W (K x N), input tensor and O (M x N).

    `input_elements` is the stored input of one group (a conv's ifmap as its
    sliding `window` reads it, not its im2col). `dense_weights`: the weight
    operand is an activation (attention, backward-weight), stored like one.
    """
    pe = arch.pe_array
    b = pe.data_bits
    # per-operand widths (W4A8...); a weight operand that is an activation has its width
    wb = pe.a_bits if dense_weights else pe.w_bits
    fmt = WeightFormat.DENSE if dense_weights else resolve_weight_format(arch, pattern, k, n)
    w_bits, w_meta = weight_bits(k, n, weight_nnz, wb, fmt, pattern)
    ab = pe.a_bits
    if arch.memory.activation_format is ActivationFormat.BITMASK:
        in_meta = input_elements
        in_bits = input_elements * activation_density * ab + in_meta
    else:
        in_meta, in_bits = 0.0, input_elements * ab
    return OperandBytes(
        weights=w_bits / 8,
        weight_metadata=w_meta / 8,
        inputs=in_bits / 8,
        input_metadata=in_meta / 8,
        outputs=m * n * b / 8,
        psums=m * n * pe.acc_bits / 8,
        weight_format=fmt,
        _dense_weights=k * n * wb / 8,
        window=window,
    )
