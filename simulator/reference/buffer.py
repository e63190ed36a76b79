"""Reference ping-pong scratchpad (hw/rtl/pingpong_buf.sv), stepped edge by edge.

Two banks of `depth` words. The write side fills one bank with a tile (a
valid/ready stream, `last` closes a tile early; a full bank closes it too)
while the read side streams the other bank's tile out (valid/ready, `last`
on its final word). A bank changes hands only when its tile is complete: the
writer hands it over at the edge that writes its last word, the reader hands
it back at the edge that reads its last word, and either side sees the
change from the next cycle on (the `full` flags are registers).

Read timing: the word is read into the output register (a synchronous SRAM
read) whenever the register is empty or being emptied (ready), so a steady
stream moves one word per cycle with no bubble; latency from the edge that
writes a tile's last word to its first word on the read port: 1 cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class PingPongBufferRef:
    """Double-buffered scratchpad: one bank filled while the other is read.

    Ports: wr_valid_i, wr_data_i, wr_last_i, rd_ready_i -> wr_ready_o,
    rd_valid_o, rd_data_o, rd_last_o. Every output is a register (wr_ready_o
    is a function of registers only).
    """

    depth: int
    mem_q: list[list[int]] = field(default_factory=list)
    full_q: list[bool] = field(default_factory=list)
    len_q: list[int] = field(default_factory=list)
    wr_bank_q: int = 0
    wr_ptr_q: int = 0
    rd_bank_q: int = 0
    rd_ptr_q: int = 0
    rd_valid_q: bool = False
    rd_data_q: int = 0
    rd_last_q: bool = False

    def __post_init__(self) -> None:
        if self.depth < 1:
            raise ValueError(f"buffer depth must be >= 1, got {self.depth}")
        self.mem_q = [[0] * self.depth for _ in range(2)]
        self.reset()

    def reset(self) -> None:
        """Reset clears the control registers; the banks' contents are not reset."""
        self.full_q = [False, False]
        self.len_q = [0, 0]
        self.wr_bank_q = self.wr_ptr_q = self.rd_bank_q = self.rd_ptr_q = 0
        self.rd_valid_q = self.rd_last_q = False
        self.rd_data_q = 0

    @property
    def wr_ready_o(self) -> bool:
        return not self.full_q[self.wr_bank_q]

    def step(self, *, wr_valid: bool, wr_data: int, wr_last: bool, rd_ready: bool) -> bool:
        """One rising edge; returns whether a word was written (wr_valid_i && wr_ready_o)."""
        full_set = [False, False]
        full_clr = [False, False]
        write = wr_valid and self.wr_ready_o
        wr_bank, wr_ptr = self.wr_bank_q, self.wr_ptr_q
        rd_bank, rd_ptr = self.rd_bank_q, self.rd_ptr_q
        # Read side first: it sees the memory and flags as they were before the edge.
        if self.full_q[rd_bank] and (not self.rd_valid_q or rd_ready):
            last = rd_ptr == self.len_q[rd_bank] - 1
            self.rd_data_q = self.mem_q[rd_bank][rd_ptr]
            self.rd_valid_q, self.rd_last_q = True, last
            if last:
                full_clr[rd_bank] = True
                self.rd_bank_q, self.rd_ptr_q = 1 - rd_bank, 0
            else:
                self.rd_ptr_q = rd_ptr + 1
        elif rd_ready:
            self.rd_valid_q = False
        if write:
            self.mem_q[wr_bank][wr_ptr] = wr_data
            if wr_last or wr_ptr == self.depth - 1:
                full_set[wr_bank] = True
                self.len_q[wr_bank] = wr_ptr + 1
                self.wr_bank_q, self.wr_ptr_q = 1 - wr_bank, 0
            else:
                self.wr_ptr_q = wr_ptr + 1
        self.full_q = [
            (f or s) and not c for f, s, c in zip(self.full_q, full_set, full_clr, strict=True)
        ]
        return write
