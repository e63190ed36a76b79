"""Data movement between DRAM, the on-chip levels and the array: a simpy simulation.

The hierarchy comes from the arch spec as a networkx graph
(`MemorySpec.graph`): DRAM, any SRAM levels, the GLB that feeds the array.
One simpy process each runs the loader, the array and the write-back:

- loader: for every step (GLB tile, `simulator.tiling`) in order, take a
  buffer of each operand tile that changes (`MemorySpec.stages_for`: the
  fewest stages of the levels on the operand's path, 2 for double buffering;
  the tile keeps it until its last step computed, an output tile until
  written back), then start its transfer and go on to the next step: the
  operands' streams load at once, and up to stages - 1 tiles per operand
  are in flight while the array computes on one (a GPU kernel's cp.async
  stages, a DMA engine's outstanding requests).
- transfers are cut-through (data forwarded as it arrives, at burst or
  line granularity): a hop starts once its source has the first byte and
  ends no sooner than the last one arrives; the bytes reach the next level the
  source's latency after they leave. Alone on its path a transfer takes the
  sum of the hops' latencies plus its bytes at the bottleneck port
  (`path_cycles`), against the sum of whole hops when stored and forwarded.
  Each port is held only for its own bytes / bandwidth (DRAM: one channel
  for reads and writes, transfers rounded up to bursts); the latency is in
  flight and does not block the port.
- array: a step starts when its data is in and the previous step is done;
  it takes its compute cycles, and at least the time its GLB traffic needs
  on a GLB port.
- write-back: after a step that finishes an output tile (or spills partial
  sums), its bytes go back up to DRAM, cut-through; then the output buffer
  is free.

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


def _hop_cycles(nbytes: float, src: MemLevelSpec, dst: MemLevelSpec | None) -> tuple[int, int]:
    """(source port busy, destination port busy) cycles a hop's bytes take, each
    at its own port's bandwidth (DRAM: bytes rounded up to bursts)."""
    if nbytes <= 0:
        return 0, 0
    if src.kind is LevelKind.DRAM:
        nbytes = math.ceil(nbytes / src.burst_bytes) * src.burst_bytes

    def busy(level: MemLevelSpec | None) -> int:
        bw = math.inf if level is None else level.port_bandwidth
        return 0 if math.isinf(bw) else math.ceil(nbytes / bw)

    return busy(src), busy(dst)


def _transfer_cycles(nbytes: float, src: MemLevelSpec, dst: MemLevelSpec | None) -> int:
    """Cycles one hop takes alone: the source's latency plus bytes at the slower port."""
    if nbytes <= 0:
        return 0
    return src.latency_cycles + max(_hop_cycles(nbytes, src, dst))


def hops_of(path: Sequence[MemLevelSpec]) -> tuple[tuple[MemLevelSpec, MemLevelSpec | None], ...]:
    """A path's hops, outermost first (kept nowhere on chip: one hop to the array)."""
    if len(path) == 1:
        return ((path[0], None),)
    return tuple(itertools.pairwise(path))


def path_cycles(nbytes: float, path: Sequence[MemLevelSpec]) -> int:
    """Cycles a transfer takes down `path` alone, cut-through: every hop's latency
    plus the bytes at the bottleneck port (`_Model._transfer` without contention)."""
    if nbytes <= 0:
        return 0
    hops = hops_of(path)
    return sum(src.latency_cycles for src, _ in hops) + max(
        max(_hop_cycles(nbytes, src, dst)) for src, dst in hops
    )


def store_and_forward_cycles(nbytes: float, path: Sequence[MemLevelSpec]) -> int:
    """Cycles the same transfer takes when each hop waits for the whole tile."""
    return sum(_transfer_cycles(nbytes, src, dst) for src, dst in hops_of(path))


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
        step_level: str | None = None,
    ) -> None:
        self.env = simpy.Environment()
        self.levels = {lv.name: lv for lv in memory.all_levels}
        # a port serves the array's reads first, then loads, then write-backs, each
        # oldest step first (an in-order loader's requests, prefetches behind demand)
        self.ports = {
            lv.name: simpy.PreemptiveResource(self.env, lv.concurrency) for lv in memory.all_levels
        }
        # each operand crosses the levels that keep it (its off-chip home first); outputs
        # go back up the same way
        self.down = {op: hops_of(memory.path_for(op)) for op in Operand}
        self.up = tuple(
            (dst, src) if dst is not None else (src, None)
            for src, dst in reversed(self.down[Operand.OUTPUTS])
        )
        # tiles of an operand in flight: one buffer each at every level on its path
        self.buffers = {
            op: simpy.Resource(self.env, memory.stages_for(op, step_level)) for op in Operand
        }
        self.steps, self.costs, self.tail = steps, costs, tail_cycles
        self.ready = [self.env.event() for _ in steps]
        self.done_at = [0] * len(steps)
        self.held: dict[Operand, list] = {op: [] for op in Operand}
        self.writes = simpy.Store(self.env)
        self.end = 0
        self.hop_cycles: dict[tuple, tuple[int, int]] = {}
        self.slowest_port: dict[StepCost, tuple[str | None, int, int]] = {}

    def _hold(self, port: simpy.PreemptiveResource, priority: int, cycles: int, started=None):
        """Keep a port busy for `cycles` of its own bytes; an older request (a lower
        priority number) takes it over between bursts and this one resumes after:
        arbitration at burst granularity, never a younger transfer ahead of an
        older one. `started` fires with the first cycle it has the port; returns
        (start, end) cycles."""
        env = self.env
        start, left = None, cycles
        while left > 0:
            req = port.request(priority=priority, preempt=True)
            try:
                yield req
            except simpy.Interrupt:  # granted and taken over in the same cycle
                port.release(req)
                continue
            if start is None:
                start = env.now
                if started is not None:
                    started.succeed(start)
            t0 = env.now
            try:
                yield env.timeout(left)
                left = 0
            except simpy.Interrupt:
                left -= env.now - t0
            port.release(req)
        return start, env.now

    def _transfer(self, nbytes: float, hops, priority: int):
        """Move a tile over its hops cut-through: a hop forwards bytes as they arrive,
        so it starts once the first byte is at its source (and it has its ports) and
        ends with its own bytes or the last byte in, whichever is later; bytes reach
        the next level the source's latency after they leave. Each port is held for
        its own bytes / bandwidth only, the latency is in flight."""
        env = self.env
        if nbytes <= 0:
            return
        first = t0 = env.now
        started = []  # per hop: (its port holds, the latency after its source)
        for src, dst in hops:
            key = (nbytes, src.name, dst.name if dst is not None else None)
            busy = self.hop_cycles.get(key)
            if busy is None:  # the same tile sizes recur step after step
                busy = self.hop_cycles[key] = _hop_cycles(nbytes, src, dst)
            if first > env.now:
                yield env.timeout(first - env.now)
            holds, first_bytes = [], []
            for lv, cycles in ((src, busy[0]), (dst, busy[1])):
                if lv is not None and cycles > 0:
                    first_bytes.append(env.event())
                    port = self.ports[lv.name]
                    holds.append(env.process(self._hold(port, priority, cycles, first_bytes[-1])))
            begin = env.now
            if holds:  # the hop streams once it has both ports
                yield env.all_of(first_bytes)
                begin = max(fb.value for fb in first_bytes)
            started.append((holds, begin, src.latency_cycles))
            first = begin + src.latency_cycles
        # the last byte: each hop ends with its own bytes or the last byte in
        last = t0
        for holds, begin, latency in started:
            end = begin
            for h in holds:
                end = max(end, (yield h)[1])
            last = max(last, end) + latency
        if last > env.now:
            yield env.timeout(last - env.now)

    def loader(self):
        """Issue each step's loads as soon as their buffers are free; the operands'
        streams run at once (sharing the ports), and a step is ready when all landed."""
        for i, step in enumerate(self.steps):
            if step.enters_output:
                req = self.buffers[Operand.OUTPUTS].request()
                yield req
                self.held[Operand.OUTPUTS].append(req)
            moving = []
            for op, nbytes in step.loads:
                if op is not Operand.OUTPUTS:  # a psum read-back lands in the output buffer
                    req = self.buffers[op].request()
                    yield req
                    self.held[op].append(req)
                moving.append(self.env.process(self._transfer(nbytes, self.down[op], 1 + i)))
            if moving:
                self.env.all_of(moving).callbacks.append(lambda _e, i=i: self.ready[i].succeed())
            else:
                self.ready[i].succeed()

    def array(self):
        for i, (step, cost) in enumerate(zip(self.steps, self.costs, strict=True)):
            yield self.ready[i]
            start = self.env.now
            # the step ends when its compute and its reads from every level are
            # done; the slowest level's reads hold one of its ports
            # (the port is busy for the bytes only; the latency is in flight)
            found = self.slowest_port.get(cost)
            if found is None:
                slowest, cycles, busy = None, 0, 0
                for name, nbytes in cost.port_bytes:
                    c = _transfer_cycles(nbytes, self.levels[name], None)
                    if c > cycles:
                        slowest, cycles = name, c
                        busy = max(_hop_cycles(nbytes, self.levels[name], None))
                found = self.slowest_port[cost] = (slowest, cycles, busy)
            slowest, cycles, busy = found
            if slowest is not None:
                yield self.env.process(self._hold(self.ports[slowest], 0, busy))
                reads_end = self.env.now + cycles - busy
                if reads_end > self.env.now:
                    yield self.env.timeout(reads_end - self.env.now)
            left = start + cost.compute_cycles - self.env.now
            if left > 0:
                yield self.env.timeout(left)
            self.done_at[i] = int(self.env.now)
            for op in step.releases:  # tiles are used in order: the oldest goes
                self.buffers[op].release(self.held[op].pop(0))
            if step.write_bytes > 0 or step.keeps_output:
                # reads before writes (a write buffer drains behind the loads, as DRAM
                # controllers do), each oldest first
                self.writes.put((step.write_bytes, 1 + len(self.steps) + i))
        if self.tail:
            yield self.env.timeout(self.tail)
        self.end = max(self.end, int(self.env.now))
        self.writes.put(None)

    def writer(self):
        while (write := (yield self.writes.get())) is not None:
            yield from self._transfer(write[0], self.up, write[1])
            self.buffers[Operand.OUTPUTS].release(self.held[Operand.OUTPUTS].pop(0))
            self.end = max(self.end, int(self.env.now))

    def run(self) -> int:
        self.env.process(self.loader())
        self.env.process(self.array())
        self.env.process(self.writer())
        self.env.run()
        return max(self.end, int(self.env.now))


def simulate_steps(
    memory: MemorySpec,
    steps: Sequence[Step],
    costs: Sequence[StepCost],
    tail_cycles: int,
    step_level: str | None = None,
) -> tuple[int, list[int]]:
    """Run the steps once; (end cycle, each step's compute-done cycle)."""
    model = _Model(memory, steps, costs, tail_cycles, step_level)
    end = model.run()
    return end, model.done_at


def run_memory(
    memory: MemorySpec,
    build: Callable[[int | None], tuple[Sequence[Step], Sequence[StepCost]]],
    tail_cycles: int,
    step_level: str | None = None,
) -> MemoryRun:
    """Simulate a layer's loop nest, truncated where it is periodic.

    `build(window)` returns (steps, costs) for a truncation window (None:
    every step); the steps are tiles of `step_level` (default the GLB).
    """
    # a deeper pipeline takes more iterations to settle: a window shows at least one
    # iteration past as many as the loader keeps in flight
    deepest = max(2, *(memory.stages_for(op, step_level) for op in Operand))
    for window in (*(w for w in WINDOWS if w > deepest), None):
        steps, costs = build(window)
        end, done_at = simulate_steps(memory, steps, costs, tail_cycles, step_level)
        compute = sum(c.compute_cycles * s.weight for c, s in zip(costs, steps, strict=True))
        compute += tail_cycles
        if all(s.weight == 1 for s in steps):
            return MemoryRun(end, compute, len(steps), False)
        extra = _extrapolate(steps, done_at, deepest)
        if extra is not None:
            return MemoryRun(end + round(extra), compute, len(steps), True)
    raise AssertionError("the full loop nest always runs")


def _extrapolate(steps: Sequence[Step], done_at: Sequence[int], settle: int = 1) -> float | None:
    """Cycles the left-out iterations add, or None if some loop is not periodic.

    A truncated loop's iteration `window - 1` stands for several; they each
    take its period once the regime is periodic: the iteration `window - 1`
    times its steps as the ones before it did (each step's compute end from the
    end of the iteration before), its period D the cycles between the ends of
    consecutive iterations' last steps, plus what its own inner loops left out
    (equal for equal middle iterations). A loader with s stages carries state
    across iterations (loads issued ahead, write-backs behind), so the last
    `settle` + 1 iterations (s, at least 2) must all time alike.
    """
    levels = len(steps[0].index)
    last: dict[tuple[int, ...], dict[int, int]] = {}
    mult: dict[tuple[int, ...], int] = {}
    for pos, step in enumerate(steps):
        for depth in range(levels):
            last.setdefault(step.index[:depth], {})[step.index[depth]] = pos
            mult[step.index[: depth + 1]] = step.mults[depth]

    def profile(iters: dict[int, int], order: list[int], k: int) -> tuple[int, ...]:
        # when each step of the k-th iteration computed, from the end of the one before
        # (its steps are contiguous); equal profiles, not only equal ends
        before = iters[order[k - 1]]
        return tuple(done_at[p] - done_at[before] for p in range(before + 1, iters[order[k]] + 1))

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
            if k < settle + 1:
                return None  # not enough middle iterations to compare
            this = profile(iters, order, k)
            if any(profile(iters, order, k - t) != this for t in range(1, settle + 1)):
                return None
            if inner[order[k - 1]] != inner[j]:
                return None
            total += extra * (this[-1] + inner[j])
        return total

    return corr(())


__all__ = [
    "MemoryRun",
    "StepCost",
    "burst_bytes",
    "hops_of",
    "path_cycles",
    "run_memory",
    "simulate_steps",
    "store_and_forward_cycles",
]
