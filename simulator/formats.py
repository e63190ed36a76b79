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

Sparseloop's rank formats (weights and activations: rle, cp, uop_cp, uop_rle), in
expectation at a density, as Timeloop v3 models them (NVlabs/timeloop,
src/workload/format-models/{uncompressed-offset-pair,coordinate-payload,
run-length-encoding}.cpp, `GetOccupancy`). A tensor of rank shape (outer to inner)
has per rank `fibers = fibers above x (1 - P(a fiber's sub-tensor is empty))`:

    UOP   payload (offsets) = fibers x (fiber length + 1), no metadata
    CP    metadata (coordinates) = fibers x ceil(length x (1 - P(an element below is empty)))
    RLE   metadata (run lengths) = fibers x length x (1 - P(...)), without the ceil

the innermost rank's payload being the nonzero values themselves. sparsim stores
them in bits: an offset of ceil(log2(entries + 1)) bits, a coordinate or run length of
ceil(log2(fiber length)) bits. P(empty) follows the density model: `random`
(uniform random, Sparseloop's hypergeometric) or `fixed` (fixed-structured, the
tutorial designs' model: every tile at the density, empty only below one nonzero).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from enum import Enum

from mappings.dataflow import Operand
from simulator.arch import ActivationFormat, ArchSpec, WeightFormat
from workloads.layers import GemmShape
from workloads.sparsity import NM
from workloads.window import InputWindow


def _log2(x: int) -> int:
    return math.ceil(math.log2(x)) if x > 1 else 0


class RankFormat(str, Enum):
    """One rank of a Sparseloop format (its `format` names in a rank list)."""

    UOP = "uop"  # uncompressed offset pair: an offset per coordinate, plus one
    CP = "cp"  # coordinate payload: a coordinate per nonzero
    RLE = "rle"  # run-length encoding: a run length per nonzero

    def __str__(self) -> str:
        return self.value


class Distribution(str, Enum):
    """How the nonzeros of a tensor at a density are spread (Sparseloop's models)."""

    RANDOM = "random"  # uniform random, a fixed count: hypergeometric
    FIXED = "fixed"  # fixed-structured: every tile at the density

    def __str__(self) -> str:
        return self.value


# sparsim's rank formats by name, ranks outer to inner
RANK_FORMATS: dict[str, tuple[RankFormat, ...]] = {
    "rle": (RankFormat.RLE,),
    "cp": (RankFormat.CP,),
    "uop_cp": (RankFormat.UOP, RankFormat.CP),
    "uop_rle": (RankFormat.UOP, RankFormat.RLE),
    # a third, outer rank: over a level's tiles of the level inside it, as Sparseloop
    # assigns ranks to the loops inside a tile outer to inner (a 02.2.2 backing store's
    # B); over a whole operand with no tiling, a rank of one fiber
    "uop_uop_cp": (RankFormat.UOP, RankFormat.UOP, RankFormat.CP),
    "uop_uop_rle": (RankFormat.UOP, RankFormat.UOP, RankFormat.RLE),
}


def empty_probability(
    tile: float, density: float, elements: float, distribution: Distribution
) -> float:
    """P(a tile of `tile` elements holds no nonzero), of a tensor of `elements` at
    `density` (Timeloop's `GetTileOccupancyProbability(tile, 0)`)."""
    if density <= 0.0 or tile <= 0:
        return 1.0 if tile > 0 else 0.0
    if distribution is Distribution.FIXED:
        exact = tile * density  # floor(exact) nonzeros with P 1 - frac, else ceil
        return 1.0 - exact if exact < 1.0 else 0.0
    zeros = elements * (1.0 - density)
    if zeros < tile:
        return 0.0
    # C(zeros, tile) / C(elements, tile), through lgamma (continuous in the density);
    # at a density of ~1e-16 lgamma's rounding lands just above 1: a probability is not
    return min(1.0, math.exp(
        math.lgamma(zeros + 1) - math.lgamma(zeros - tile + 1)
        - math.lgamma(elements + 1) + math.lgamma(elements - tile + 1)
    ))  # fmt: skip


@dataclass(frozen=True, slots=True)
class RankOccupancy:
    """One rank's expected entries (Timeloop's (metadata, payload) units) and their bits."""

    metadata_units: float
    payload_units: float
    metadata_bits: float
    payload_bits: float


def rank_occupancy(
    ranks: tuple[RankFormat, ...],
    shape: tuple[int, ...],
    density: float,
    distribution: Distribution = Distribution.RANDOM,
) -> tuple[RankOccupancy, ...]:
    """Per rank (outer to inner) of a tensor tile of rank `shape`, its expected format
    entries at `density` (the innermost rank's payload: the values, counted as data)."""
    if len(ranks) != len(shape):
        raise ValueError(f"{len(ranks)} ranks for a shape of {len(shape)}")
    elements = math.prod(shape)
    out = []
    for i, (fmt, length) in enumerate(zip(ranks, shape, strict=True)):
        above = math.prod(shape[:i])
        below = math.prod(shape[i + 1 :])
        fibers = above * (1.0 - empty_probability(length * below, density, elements, distribution))
        occupied = 1.0 - empty_probability(below, density, elements, distribution)
        if fmt is RankFormat.UOP:
            meta, payload = 0.0, fibers * (length + 1)
            # an offset indexes the next rank's entries, at most the tile's
            bits = payload * _log2(length * below + 1)
            out.append(RankOccupancy(meta, payload, 0.0, bits))
            continue
        per_fiber = length * occupied
        if fmt is RankFormat.CP:
            per_fiber = math.ceil(per_fiber - 1e-9)
        meta = per_fiber * fibers
        payload = meta if i < len(ranks) - 1 else 0.0  # innermost: the values
        # a coordinate / run length within the fiber; a payload: the next rank's offset
        p_bits = payload * _log2(length * below + 1) if payload else 0.0
        out.append(RankOccupancy(meta, payload, meta * _log2(length), p_bits))
    return tuple(out)


def rank_format_bits(
    fmt: str,
    shape: tuple[int, ...],
    density: float,
    data_bits: int,
    distribution: Distribution = Distribution.RANDOM,
) -> tuple[float, float]:
    """(total bits, metadata bits) of a (fibers, fiber length) tile at `density` in the
    rank format `fmt` (RANK_FORMATS): the nonzero values plus every rank's entries
    (metadata is counted, never free). A one-rank format flattens the tile; a
    three-rank one takes (tiles, fibers, fiber length), a tile of one fiber of fibers
    when given two."""
    ranks = RANK_FORMATS[fmt]
    if len(ranks) == 1:
        dims: tuple[int, ...] = (math.prod(shape),)
    elif len(ranks) == 3 and len(shape) == 2:
        dims = (1, *shape)
    else:
        dims = shape
    meta = sum(
        r.metadata_bits + r.payload_bits for r in rank_occupancy(ranks, dims, density, distribution)
    )
    values = math.prod(shape) * density * data_bits
    return values + meta, meta


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
    # levels storing an operand in their own format (`MemLevelSpec.formats`):
    # (level, operand, stored bytes, metadata bytes, format, density, data bits,
    # elements, fiber length); empty: none. A three-rank format's bytes here are
    # untiled; `simulator.accesses.level_format_scales` sizes it per tile.
    level_formats: tuple[tuple[str, Operand, float, float, str, float, int, float, int], ...] = ()

    def whole(self, operand: Operand) -> tuple[float, float]:
        """(bytes, metadata bytes) of the whole operand in the memory-wide format."""
        if operand is Operand.WEIGHTS:
            return self.weights, self.weight_metadata
        if operand is Operand.INPUTS:
            return self.inputs, self.input_metadata
        return self.outputs, 0.0

    def stored(self, level: str, operand: Operand) -> tuple[float, float, str]:
        """(bytes, metadata bytes, format) of the whole operand as `level` stores it."""
        for name, op, total, meta, fmt, *_ in self.level_formats:
            if name == level and op is operand:
                return total, meta, fmt
        total, meta = self.whole(operand)
        if operand is Operand.WEIGHTS:
            return total, meta, str(self.weight_format)
        return total, meta, str(self.input_format) if operand is Operand.INPUTS else "dense"

    def level_scale(self, level: str, operand: Operand) -> float:
        """Bytes of `operand` as `level` stores it over its memory-wide bytes: every
        count and tile of it at that level scales by this (formats are expectations
        per element, so a tile's share is the whole's)."""
        for name, op, total, *_ in self.level_formats:
            if name == level and op is operand:
                base = self.whole(op)[0]
                return total / base if base else 1.0
        return 1.0

    input_format: str = "dense"

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
    if fmt.value in RANK_FORMATS:  # Sparseloop's: a fiber per output column over K
        return rank_format_bits(fmt.value, (n, k), nnz / (k * n) if k * n else 0.0, data_bits)
    # CSR, one row per output column: column (K) indices and row pointers
    meta = nnz * _log2(k) + (n + 1) * _log2(round(nnz) + 1)
    return nnz * data_bits + meta, float(meta)


def activation_bits(
    elements: float, fiber: int, density: float, data_bits: int, fmt: ActivationFormat
) -> tuple[float, float]:
    """(total bits, metadata bits) of `elements` activations at `density` stored in
    `fmt`; a rank format takes a fiber of `fiber` elements per pixel."""
    if fmt is ActivationFormat.BITMASK:
        return elements * density * data_bits + elements, float(elements)
    if fmt.value in RANK_FORMATS:
        fibers = elements / fiber if fiber else 0.0
        shape = (max(1, round(fibers)), max(1, fiber))
        bits, meta = rank_format_bits(fmt.value, shape, density, data_bits)
        per = elements / (shape[0] * shape[1])  # (the expectation, to the stored count)
        return bits * per, meta * per
    return elements * data_bits, 0.0


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
    output_density: float = 1.0,
) -> OperandBytes:
    """Stored bytes of one group's W (K x N), input tensor and O (M x N).

    `input_elements` is the stored input of one group (a conv's ifmap as its
    sliding `window` reads it, not its im2col). `dense_weights`: the weight
    operand is an activation (attention, backward-weight), stored like one.
    `output_density`: the output's nonzero fraction, for a level storing final
    outputs compressed (a fiber per pixel over the output channels, N).
    """
    pe = arch.pe_array
    b = pe.data_bits
    # per-operand widths (W4A8...); a weight operand that is an activation has its width
    wb = pe.a_bits if dense_weights else pe.w_bits
    fmt = WeightFormat.DENSE if dense_weights else resolve_weight_format(arch, pattern, k, n)
    w_bits, w_meta = weight_bits(k, n, weight_nnz, wb, fmt, pattern)
    ab = pe.a_bits
    act_fmt = arch.memory.activation_format
    # a fiber per pixel over the channels (a GEMM's rows over K)
    fiber = window.channels if window is not None else k
    in_bits, in_meta = activation_bits(input_elements, fiber, activation_density, ab, act_fmt)
    level_formats = []
    # a memory-wide three-rank format follows each level's tiling as a level's own does
    tiled = {
        op: f
        for op, f in ((Operand.WEIGHTS, fmt), (Operand.INPUTS, act_fmt))
        if len(RANK_FORMATS.get(f.value, ())) == 3
    }
    for lv in arch.memory.all_levels:
        for op, level_fmt in (tiled | dict(lv.formats)).items():
            if op is Operand.WEIGHTS and not dense_weights:
                wf = (
                    level_fmt if level_fmt is not WeightFormat.NM or pattern else WeightFormat.DENSE
                )
                bits, meta = weight_bits(k, n, weight_nnz, wb, wf, pattern)
                shape = (k * n, weight_nnz / (k * n) if k * n else 0.0, wb, k)
            elif op is Operand.INPUTS:
                bits, meta = activation_bits(
                    input_elements, fiber, activation_density, ab, level_fmt
                )
                shape = (input_elements, activation_density, ab, fiber)
            elif op is Operand.OUTPUTS:
                bits, meta = activation_bits(m * n, n, output_density, b, level_fmt)
                shape = (m * n, output_density, b, n)
            else:  # (a weight operand that is an activation stays as activations are)
                continue
            elements, density, data_bits, length = shape
            level_formats.append(
                (lv.name, op, bits / 8, meta / 8, str(level_fmt), density, data_bits, elements,
                 length)
            )  # fmt: skip
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
        level_formats=tuple(level_formats),
        input_format=str(act_fmt),
    )
