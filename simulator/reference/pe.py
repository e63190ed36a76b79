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

    def __post_init__(self) -> None:
        if not 1 <= self.n <= self.m:
            raise ValueError(f"PE needs 1 <= N <= M, got {self.n}:{self.m}")
        self.reset()

    def reset(self) -> None:
        self.w_q = [0] * self.n
        self.w_idx_q = [0] * self.n
        self.act_q = [0] * self.m
        self.psum_q = 0
        self.valid_q = False

    def dot(self, act: Sequence[int], dense: bool) -> int:
        """The combinational sum of this PE's N products for activations `act`."""
        if dense:
            return sum(w * act[j] for j, w in enumerate(self.w_q))
        return sum(w * act[i] for w, i in zip(self.w_q, self.w_idx_q, strict=True))

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
        self.valid_q = valid
        if w_load:
            self.w_q = list(w)
            self.w_idx_q = list(w_idx)


def nm_compress(group: Sequence[int], n: int) -> tuple[list[int], list[int]]:
    """The N:M compressor: the N largest-magnitude values of a group and their
    indices (ascending), ties to the lower index (workloads.pruning rule)."""
    keep = nm_keep_indices(np.asarray(group), n)
    return [int(group[i]) for i in keep], [int(i) for i in keep]
