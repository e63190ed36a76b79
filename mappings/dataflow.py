"""Dataflows and fold timing: which operand stays in the PEs, how folds chain."""

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
