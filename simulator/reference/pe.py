"""Reference PE and N:M compressor, stepped cycle by cycle as the RTL is.

Every class here steps registers exactly as the SystemVerilog in `hw/rtl/`
does: one call to `step` is one rising clock edge. State names mirror the
RTL's `_q` flops. It is slow on purpose (plain Python, one PE at a time) and
is only run on small arrays; the tile model is proven equal to it.

PE semantics (DESIGN.md): an N:M PE holds N weight values and N indices of
ceil(log2 M) bits. In sparse mode it takes M activations and multiplies
weight j by activation idx[j]; in dense mode it multiplies weight j by
activation j (only the first N activations are used). Products are summed
into the incoming partial sum with two's-complement wrap at `acc_bits`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from workloads.pruning import nm_keep_indices


def wrap(value: int, bits: int) -> int:
    """Two's-complement wrap of an integer to `bits` bits (what a register holds)."""
    mask = (1 << bits) - 1
    value &= mask
    return value - (1 << bits) if value >> (bits - 1) else value


def _check_nm(n: int, m: int) -> None:
    if not 1 <= n <= m:
        raise ValueError(f"PE needs 1 <= N <= M, got {n}:{m}")


def _nm_dot(w: Sequence[int], w_idx: Sequence[int], x: Sequence[int], dense: bool) -> int:
    """Sum of the N products: w[j] * x[j] (dense) or w[j] * x[w_idx[j]] (sparse)."""
    if dense:
        return sum(wj * x[j] for j, wj in enumerate(w))
    return sum(wj * x[i] for wj, i in zip(w, w_idx, strict=True))


@dataclass(slots=True)
class NMPE:
    """One N:M sparse PE with stationary weights and a registered psum output.

    Ports (hw/rtl/nm_pe.sv): dense_i, w_load_i, w_i[N], w_idx_i[N], valid_i,
    act_i[M], psum_i -> valid_o, act_o[M], psum_o, w_o[N], w_idx_o[N].
    Latency from valid_i to valid_o is one cycle.
    """

    n: int
    m: int
    acc_bits: int = 32
    w_q: list[int] = field(default_factory=list)
    w_idx_q: list[int] = field(default_factory=list)
    act_q: list[int] = field(default_factory=list)
    psum_q: int = 0
    valid_q: bool = False
    # Action counts since reset (zero gating, DESIGN.md): multiplier slots of a
    # valid cycle with a nonzero weight and activation (live), and the rest.
    live_macs: int = 0
    gated_macs: int = 0

    def __post_init__(self) -> None:
        _check_nm(self.n, self.m)
        self.reset()

    def reset(self) -> None:
        self.w_q = [0] * self.n
        self.w_idx_q = [0] * self.n
        self.act_q = [0] * self.m
        self.psum_q = 0
        self.valid_q = False
        self.live_macs = self.gated_macs = 0

    def dot(self, act: Sequence[int], dense: bool) -> int:
        """The combinational sum of this PE's N products for activations `act`."""
        return _nm_dot(self.w_q, self.w_idx_q, act, dense)

    def step(
        self,
        *,
        dense: bool,
        w_load: bool,
        w: Sequence[int],
        w_idx: Sequence[int],
        valid: bool,
        act: Sequence[int],
        psum: int,
    ) -> None:
        """One rising clock edge. The MAC uses the weights held *before* the edge."""
        if valid:
            self.psum_q = wrap(psum + self.dot(act, dense), self.acc_bits)
            self.act_q = list(act)
            for j, wj in enumerate(self.w_q):
                live = wj != 0 and (act[j] if dense else act[self.w_idx_q[j]]) != 0
                self.live_macs += live
                self.gated_macs += not live
        self.valid_q = valid
        if w_load:
            self.w_q = list(w)
            self.w_idx_q = list(w_idx)


def nm_compress(group: Sequence[int], n: int) -> tuple[list[int], list[int]]:
    """The N:M compressor: the N largest-magnitude values of a group and their
    indices (ascending), ties to the lower index (workloads.pruning rule)."""
    keep = nm_keep_indices(np.asarray(group), n)
    return [int(group[i]) for i in keep], [int(i) for i in keep]


@dataclass(slots=True)
class NMPEOS:
    """One N:M PE of an output-stationary array: the accumulator stays.

    Activations (a window of M, or N in dense mode) come from the left with
    `valid`, `first` and `last`; the compressed weights (N values, N indices)
    come from above. Both are registered and passed on (right, down), so each
    reaches the next PE one cycle later. With `valid` the PE adds its N
    products to the accumulator (to 0 when `first`: a new output starts); with
    `last` the result also goes to `out_q` and `out_valid_q` pulses for one
    cycle, so the next output may start accumulating at once (the output
    register is the second buffer of the accumulator). Wrap at `acc_bits`.
    """

    n: int
    m: int
    acc_bits: int = 32
    act_q: list[int] = field(default_factory=list)
    w_q: list[int] = field(default_factory=list)
    w_idx_q: list[int] = field(default_factory=list)
    valid_q: bool = False
    first_q: bool = False
    last_q: bool = False
    acc_q: int = 0
    out_q: int = 0
    out_valid_q: bool = False

    def __post_init__(self) -> None:
        _check_nm(self.n, self.m)
        self.reset()

    def reset(self) -> None:
        self.act_q = [0] * self.m
        self.w_q = [0] * self.n
        self.w_idx_q = [0] * self.n
        self.valid_q = self.first_q = self.last_q = self.out_valid_q = False
        self.acc_q = self.out_q = 0

    def step(
        self,
        *,
        dense: bool,
        valid: bool,
        first: bool,
        last: bool,
        act: Sequence[int],
        w: Sequence[int],
        w_idx: Sequence[int],
    ) -> None:
        """One rising clock edge."""
        self.out_valid_q = False
        if valid:
            total = wrap(
                (0 if first else self.acc_q) + _nm_dot(w, w_idx, act, dense), self.acc_bits
            )
            self.acc_q = total
            self.act_q, self.w_q, self.w_idx_q = list(act), list(w), list(w_idx)
            if last:
                self.out_q, self.out_valid_q = total, True
        self.valid_q, self.first_q, self.last_q = valid, valid and first, valid and last


@dataclass(slots=True)
class NMPEIS:
    """One N:M PE of an input-stationary array: a window of inputs stays.

    The PE holds M inputs (the K window of one output row; dense mode uses
    the first N). Compressed weights (N values, N indices) come from the left
    with `valid`, are registered and passed right; the partial sum comes from
    above and is registered (passed down), as in `NMPE` with the roles of the
    operands swapped: psum_q <= psum + sum_j w[j] * x_q[w_idx[j]] (sparse) or
    w[j] * x_q[j] (dense). An input load (`x_load`) takes effect at the same
    edge, so the MAC of that cycle still uses the old inputs.
    """

    n: int
    m: int
    acc_bits: int = 32
    x_q: list[int] = field(default_factory=list)
    w_q: list[int] = field(default_factory=list)
    w_idx_q: list[int] = field(default_factory=list)
    psum_q: int = 0
    valid_q: bool = False

    def __post_init__(self) -> None:
        _check_nm(self.n, self.m)
        self.reset()

    def reset(self) -> None:
        self.x_q = [0] * self.m
        self.w_q = [0] * self.n
        self.w_idx_q = [0] * self.n
        self.psum_q = 0
        self.valid_q = False

    def step(
        self,
        *,
        dense: bool,
        x_load: bool,
        x: Sequence[int],
        valid: bool,
        w: Sequence[int],
        w_idx: Sequence[int],
        psum: int,
    ) -> None:
        """One rising clock edge."""
        if valid:
            self.psum_q = wrap(psum + _nm_dot(w, w_idx, self.x_q, dense), self.acc_bits)
            self.w_q, self.w_idx_q = list(w), list(w_idx)
        self.valid_q = valid
        if x_load:
            self.x_q = list(x)
