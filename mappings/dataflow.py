"""Dataflows, fold timing and operands: which operand stays in the PEs, how folds chain."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Dataflow(str, Enum):
    """Which operand is stationary in the PE array.

    WS: weights (K x N tile) stay, activations stream (T = M).
    OS: outputs (M x N tile) stay, both operands stream (T = K).
    IS: inputs (K x M tile) stay, weights stream (T = N).
    """

    WS = "ws"
    OS = "os"
    IS = "is"

    def __str__(self) -> str:
        return self.value


class FoldTiming(str, Enum):
    """How consecutive folds of the array are scheduled.

    SERIALIZED: each fold pays its preload, fill and drain (SCALE-Sim's timing).
    OVERLAPPED: the next fold's preload hides behind the current fold
    (double-buffered PE registers, as real arrays do).
    """

    SERIALIZED = "serialized"
    OVERLAPPED = "overlapped"

    def __str__(self) -> str:
        return self.value


class Operand(str, Enum):
    """A GEMM operand as the memory system sees it (ZigZag's habit: its own type).

    WEIGHTS: W (K x N), the operand a mask prunes; INPUTS: A (M x K, stored
    as the layer's input tensor); OUTPUTS: O (M x N), partial sums until the
    reduction completes.
    """

    WEIGHTS = "weights"
    INPUTS = "inputs"
    OUTPUTS = "outputs"

    def __str__(self) -> str:
        return self.value


LOOP_DIMS = "mnk"
OPERAND_DIMS = {Operand.INPUTS: "mk", Operand.WEIGHTS: "kn", Operand.OUTPUTS: "mn"}


@dataclass(frozen=True, slots=True)
class DataflowRoles:
    """What a dataflow puts where: the one table every model reads.

    `rows` / `cols` / `stream`: the GEMM dimension unrolled over the array's
    rows, over its columns, and streamed through it in time (T). `stationary`
    stays in the PE registers for a fold; `streamed` enter the array every
    cycle; `moving`: operands that hop PE to PE (the array network).
    `preload`: a fold starts by shifting the stationary tile in (WS, IS).
    """

    rows: str
    cols: str
    stream: str
    stationary: Operand
    streamed: tuple[Operand, ...]
    preload: bool

    @property
    def reduction_on_rows(self) -> bool:
        """K is unrolled over the rows: partial sums leave the array every K fold."""
        return self.rows == "k"


ROLES: dict[Dataflow, DataflowRoles] = {
    # rows <- K, cols <- N, stream M; weights stay, inputs stream, psums flow down
    Dataflow.WS: DataflowRoles("k", "n", "m", Operand.WEIGHTS, (Operand.INPUTS,), True),
    # rows <- K, cols <- M, stream N; inputs stay, weights stream
    Dataflow.IS: DataflowRoles("k", "m", "n", Operand.INPUTS, (Operand.WEIGHTS,), True),
    # rows <- M, cols <- N, stream K; outputs stay, both operands stream
    Dataflow.OS: DataflowRoles(
        "m", "n", "k", Operand.OUTPUTS, (Operand.INPUTS, Operand.WEIGHTS), False
    ),
}
