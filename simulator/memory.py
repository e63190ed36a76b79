"""Data movement between DRAM, the on-chip levels and the array: a simpy simulation.

The hierarchy comes from the arch spec as a networkx graph
(`MemorySpec.graph`): DRAM, any SRAM levels, the GLB that feeds the array.
One simpy process each runs the loader, the array and the write-back:

- loader: for every step (GLB tile, `simulator.tiling`) in order, take a
  buffer of each operand tile that changes (two per operand when double
  buffered, else one; the tile keeps it until its last step computed, an
  output tile until written back), then move the bytes hop by hop down the
  graph: each hop holds the source's and the destination's port for
  latency + bytes / bandwidth cycles (DRAM: one channel for reads and
  writes, transfers rounded up to bursts).
- array: a step starts when its data is in and the previous step is done;
  it takes its compute cycles, and at least the time its GLB traffic needs
  on a GLB port.
- write-back: after a step that finishes an output tile (or spills partial
  sums), its bytes go back up to DRAM; then the output buffer is free.

Times are whole cycles. The stall is what this adds to the array's compute.

Steady state: the loop nest is run truncated (`tiling.enumerate_steps` with
a window); per loop, the durations of the last two simulated middle
iterations must be equal (a periodic regime), and the iterations left out
add that period each. If a loop is not periodic within the window, the
window grows, and finally the full nest runs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import simpy

from mappings.dataflow import Operand
from simulator.arch import LevelKind, MemLevelSpec, MemorySpec
from simulator.tiling import Step

WINDOWS = (3, 4, 8)  # steady-state windows tried before simulating every step


@dataclass(frozen=True, slots=True)
class StepCost:
    """What one step asks of the array and of the on-chip levels it reads from."""

    compute_cycles: int
    # (level, bytes the level's inner side reads from it in this step)
    port_bytes: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class MemoryRun:
    end_cycles: int  # when the last step computed and the last byte was written back
    compute_cycles: int  # the array's busy cycles in this run (sum of step costs + tail)
    simulated_steps: int
    extrapolated: bool

    @property
    def stall_cycles(self) -> int:
        return max(0, self.end_cycles - self.compute_cycles)


def _transfer_cycles(nbytes: float, src: MemLevelSpec, dst: MemLevelSpec | None) -> int:
    """Cycles a hop takes: the source's latency plus bytes at the slower port."""
    if nbytes <= 0:
        return 0
    bandwidth = src.port_bandwidth if dst is None else min(src.port_bandwidth, dst.port_bandwidth)
    if src.kind is LevelKind.DRAM:
        nbytes = math.ceil(nbytes / src.burst_bytes) * src.burst_bytes
    data = 0 if math.isinf(bandwidth) else math.ceil(nbytes / bandwidth)
    return src.latency_cycles + data


def burst_bytes(nbytes: float, dram: MemLevelSpec) -> int:
    """Bytes a DRAM transfer really moves (rounded up to bursts)."""
    return math.ceil(nbytes / dram.burst_bytes) * dram.burst_bytes if nbytes > 0 else 0


class _Model:
    def __init__(
        self,
        memory: MemorySpec,
        steps: Sequence[Step],
        costs: Sequence[StepCost],
        tail_cycles: int,
    ) -> None:
        self.env = simpy.Environment()
        self.levels = {lv.name: lv for lv in memory.all_levels}
        self.ports = {lv.name: simpy.Resource(self.env, lv.concurrency) for lv in memory.all_levels}
        # each operand crosses the levels that keep it (its off-chip home first)
        self.paths = {op: memory.path_for(op) for op in Operand}
        copies = 2 if memory.double_buffering else 1
        self.buffers = {op: simpy.Resource(self.env, copies) for op in Operand}
        self.steps, self.costs, self.tail = steps, costs, tail_cycles
        self.ready = [self.env.event() for _ in steps]
        self.done_at = [0] * len(steps)
        self.held: dict[Operand, list] = {op: [] for op in Operand}
        self.writes = simpy.Store(self.env)
        self.end = 0
        self.hop_cycles: dict[tuple, int] = {}
        self.slowest_port: dict[StepCost, tuple[str | None, int]] = {}

    def _hop(self, nbytes: float, src: MemLevelSpec, dst: MemLevelSpec | None):
        key = (nbytes, src.name, dst.name if dst is not None else None)
        cycles = self.hop_cycles.get(key)
        if cycles is None:  # the same tile sizes recur step after step
            cycles = self.hop_cycles[key] = _transfer_cycles(nbytes, src, dst)
        if not cycles:
            return
        # both ports are asked for before waiting on either
        src_port = self.ports[src.name]
        src_req = src_port.request()
        if dst is None:
            yield src_req
            yield self.env.timeout(cycles)
            src_port.release(src_req)
            return
        dst_port = self.ports[dst.name]
        dst_req = dst_port.request()
        yield src_req
        yield dst_req
        yield self.env.timeout(cycles)
        src_port.release(src_req)
        dst_port.release(dst_req)

    def _move_down(self, nbytes: float, op: Operand):
        path = self.paths[op]
        if len(path) == 1:  # kept nowhere on chip: streamed from DRAM
            yield from self._hop(nbytes, path[0], None)
        for src, dst in itertools.pairwise(path):
            yield from self._hop(nbytes, src, dst)

    def _move_up(self, nbytes: float):
        path = self.paths[Operand.OUTPUTS]
        if len(path) == 1:
            yield from self._hop(nbytes, path[0], None)
        for dst, src in reversed(list(itertools.pairwise(path))):
            yield from self._hop(nbytes, src, dst)

    def loader(self):
        for i, step in enumerate(self.steps):
            if step.enters_output:
                req = self.buffers[Operand.OUTPUTS].request()
                yield req
                self.held[Operand.OUTPUTS].append(req)
            for op, nbytes in step.loads:
                if op is not Operand.OUTPUTS:  # a psum read-back lands in the output buffer
                    req = self.buffers[op].request()
                    yield req
                    self.held[op].append(req)
                yield from self._move_down(nbytes, op)
            self.ready[i].succeed()

    def array(self):
        for i, (step, cost) in enumerate(zip(self.steps, self.costs, strict=True)):
            yield self.ready[i]
            start = self.env.now
            # the step ends when its compute and its reads from every level are
            # done; the slowest level's reads hold one of its ports
            found = self.slowest_port.get(cost)
            if found is None:
                slowest, cycles = None, 0
                for name, nbytes in cost.port_bytes:
                    c = _transfer_cycles(nbytes, self.levels[name], None)
                    if c > cycles:
                        slowest, cycles = name, c
                found = self.slowest_port[cost] = (slowest, cycles)
            slowest, cycles = found
            if slowest is not None:
                port = self.ports[slowest]
                req = port.request()
                yield req
                yield self.env.timeout(cycles)
                port.release(req)
            left = start + cost.compute_cycles - self.env.now
            if left > 0:
                yield self.env.timeout(left)
            self.done_at[i] = int(self.env.now)
            for op in step.releases:  # tiles are used in order: the oldest goes
                self.buffers[op].release(self.held[op].pop(0))
            if step.write_bytes > 0 or step.keeps_output:
                self.writes.put(step.write_bytes)
        if self.tail:
            yield self.env.timeout(self.tail)
        self.end = max(self.end, int(self.env.now))
        self.writes.put(None)

    def writer(self):
        while (nbytes := (yield self.writes.get())) is not None:
            yield from self._move_up(nbytes)
            self.buffers[Operand.OUTPUTS].release(self.held[Operand.OUTPUTS].pop(0))
            self.end = max(self.end, int(self.env.now))

    def run(self) -> int:
        self.env.process(self.loader())
        self.env.process(self.array())
        self.env.process(self.writer())
        self.env.run()
        return max(self.end, int(self.env.now))


def simulate_steps(
    memory: MemorySpec, steps: Sequence[Step], costs: Sequence[StepCost], tail_cycles: int
) -> tuple[int, list[int]]:
    """Run the steps once; (end cycle, each step's compute-done cycle)."""
    model = _Model(memory, steps, costs, tail_cycles)
    end = model.run()
    return end, model.done_at


def run_memory(
    memory: MemorySpec,
    build: Callable[[int | None], tuple[Sequence[Step], Sequence[StepCost]]],
    tail_cycles: int,
) -> MemoryRun:
    """Simulate a layer's loop nest, truncated where it is periodic.

    `build(window)` returns (steps, costs) for a truncation window (None:
    every step).
    """
    for window in (*WINDOWS, None):
        steps, costs = build(window)
        end, done_at = simulate_steps(memory, steps, costs, tail_cycles)
        compute = sum(c.compute_cycles * s.weight for c, s in zip(costs, steps, strict=True))
        compute += tail_cycles
        if all(s.weight == 1 for s in steps):
            return MemoryRun(end, compute, len(steps), False)
        extra = _extrapolate(steps, done_at)
        if extra is not None:
            return MemoryRun(end + round(extra), compute, len(steps), True)
    raise AssertionError("the full loop nest always runs")


def _extrapolate(steps: Sequence[Step], done_at: Sequence[int]) -> float | None:
    """Cycles the left-out iterations add, or None if some loop is not periodic.

    A truncated loop's iteration `window - 1` stands for several; they each
    take its period once the regime is periodic: D(window - 1) ==
    D(window - 2), with D the cycles between the ends of consecutive
    iterations' last steps, plus what its own inner loops left out (equal
    for equal middle iterations).
    """
    levels = len(steps[0].index)
    last: dict[tuple[int, ...], dict[int, int]] = {}
    mult: dict[tuple[int, ...], int] = {}
    for pos, step in enumerate(steps):
        for depth in range(levels):
            last.setdefault(step.index[:depth], {})[step.index[depth]] = pos
            mult[step.index[: depth + 1]] = step.mults[depth]

    def corr(prefix: tuple[int, ...]) -> float | None:
        depth = len(prefix)
        if depth == levels:
            return 0.0
        iters = last[prefix]
        order = sorted(iters)
        inner: dict[int, float] = {}
        for j in order:
            c = corr((*prefix, j))
            if c is None:
                return None
            inner[j] = c
        total = sum(inner.values())
        for k, j in enumerate(order):
            extra = mult[(*prefix, j)] - 1
            if extra <= 0:
                continue
            if k < 2:
                return None  # no two middle iterations to compare
            a, b = order[k - 2], order[k - 1]
            d_prev = done_at[iters[b]] - done_at[iters[a]]
            d_this = done_at[iters[j]] - done_at[iters[b]]
            if d_prev != d_this or inner[b] != inner[j]:
                return None
            total += extra * (d_this + inner[j])
        return total

    return corr(())


__all__ = ["MemoryRun", "StepCost", "burst_bytes", "run_memory", "simulate_steps"]
