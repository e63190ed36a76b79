"""Reference N:M compressor (hw/rtl/nm_compressor.sv), stepped edge by edge.

The values come from `nm_compress` (the rule of workloads.pruning: the N
largest |w|, ties to the lower index, kept indices ascending). The model adds
the block's timing: one output register behind a valid/ready handshake on
both sides, so a group taken at one edge is offered on the outputs right
after it (latency 1) and held until the consumer takes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from simulator.reference.pe import nm_compress


@dataclass(slots=True)
class NMCompressorRef:
    """One-stage N:M compressor with valid/ready in and out.

    Ports: valid_i, group_i[M], ready_i -> ready_o, valid_o, w_o[N], w_idx_o[N].
    `ready_o` is combinational: ready_o = not valid_q or ready_i.
    """

    n: int
    m: int
    valid_q: bool = False
    w_q: list[int] = field(default_factory=list)
    w_idx_q: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not 1 <= self.n <= self.m:
            raise ValueError(f"compressor needs 1 <= N <= M, got {self.n}:{self.m}")
        self.reset()

    def reset(self) -> None:
        self.valid_q = False
        self.w_q = [0] * self.n
        self.w_idx_q = [0] * self.n

    def ready_o(self, ready_i: bool) -> bool:
        """The upstream ready before the next edge, given the downstream's ready."""
        return not self.valid_q or ready_i

    def step(self, *, valid: bool, group: Sequence[int], ready: bool) -> bool:
        """One rising edge; returns whether a group was taken (valid_i && ready_o)."""
        if len(group) != self.m:
            raise ValueError(f"group has {len(group)} weights, expected M = {self.m}")
        take = valid and self.ready_o(ready)
        if take:
            self.w_q, self.w_idx_q = nm_compress(group, self.n)
            self.valid_q = True
        elif ready:
            self.valid_q = False
        return take
