"""Dataflows, fold timing and operands: which operand stays in the PEs, how folds chain."""

from __future__ import annotations

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
