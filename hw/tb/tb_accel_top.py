"""cocotb bench of hw/rtl/accel_top.sv: whole tiled GEMMs and im2col convs.

The build's parameters come from an arch YAML (hw.accel_config; the runner
passes its path in $SPARSIM_ARCH and the bench checks the DUT against it).
Each case is a random GEMM (or a conv lowered by im2col) with random GLB
tiles, dense or N:M (pruned by workloads.pruning; the RTL compressor makes
the metadata), with zero activations so that gating happens. The loader
streams every case's operands through valid/ready as soon as a bank is free,
so the next case loads while the current one computes (ping-pong). For each
case the bench checks

  * every edge from the command to the last array output: the array's
    preload strobe, swap bit, stream valid and output valid equal the fold
    schedule of `simulator.action_counts.ws_folds` under the reference's fold
    timing (simulator.reference.array), failing at the first wrong edge;
  * cycles_o == simulator.tile_model.fold_streams(...).compute_cycles for the
    same shape, tiles and arch (memory stalls off: operands are resident);
  * the outputs == numpy's A @ W (wrapped at AccWidth);
  * counts_o == simulator.action_counts.ws_action_counts.

The array's control is sampled each run cycle as one word (ctrl_o) and
compared in a batch after the run; the stream data is driven a beat per edge;
the Python models run once per case, not per cycle.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, fields

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge

from hw.accel_config import accel_parameters
from hw.tb.common import (
    CLOCK_NS,
    bench_cases,
    bench_rng,
    clock_and_reset,
    dut_params,
    logger,
    pack,
    record_stats,
    unpack,
)
from mappings.dataflow import Dataflow, FoldTiming
from simulator.action_counts import ArrayActionCounts, ws_action_counts, ws_folds
from simulator.load import load_arch
from simulator.reference import wrap
from simulator.tile_model import fold_streams
from workloads.layers import Conv2d, GemmShape
from workloads.pruning import prune_nm

DEFAULT_CASES = 20
DONE = object()  # what next() returns for a finished step generator
COUNT_NAMES = [f.name for f in fields(ArrayActionCounts)]


@dataclass(frozen=True, slots=True)
class Case:
    a: np.ndarray  # m x k
    w: np.ndarray  # k x n, pruned when sparse
    tile: tuple[int, int, int]
    dense: bool
    label: str

    def __str__(self) -> str:
        (m, k), n = self.a.shape, self.w.shape[1]
        mode = "dense" if self.dense else "N:M"
        return f"{self.label} {m}x{n}x{k} tiles {self.tile} {mode}"


class AccelBench:
    def __init__(self, dut) -> None:
        self.dut = dut
        self.arch = load_arch(os.environ["SPARSIM_ARCH"])
        want = dict(accel_parameters(self.arch))
        got = dut_params(dut, want)
        assert got == want, f"DUT parameters {got} differ from {self.arch.file}'s {want}"
        self.p = got
        self.pe = self.arch.pe_array
        self.pattern = self.pe.nm_patterns[0] if self.pe.nm_patterns else None
        self.rows, self.cols = got["Rows"], got["Cols"]
        self.lanes, self.dw, self.acc = got["M"], got["DataWidth"], got["AccWidth"]
        self.overlapped = self.pe.fold_timing is FoldTiming.OVERLAPPED
        self.coverage: Counter[str] = Counter()

    # ---- stimulus -----------------------------------------------------------------

    def window(self, dense: bool) -> int:
        return self.pe.window(None if dense else self.pattern)

    def fits(self, m: int, n: int, k: int, dense: bool) -> bool:
        kw = -(-k // self.window(dense))
        p = self.p
        return kw * n <= p["WDepth"] and m * kw <= p["ADepth"] and m * n <= p["ODepth"]

    def operand(self, rng: np.random.Generator, shape, zeros: float) -> np.ndarray:
        lo, hi = -(1 << (self.dw - 1)), (1 << (self.dw - 1)) - 1
        x = rng.integers(lo, hi + 1, size=shape)
        x[rng.random(shape) < zeros] = 0
        if x.size:
            x.flat[rng.integers(x.size)] = lo  # an extreme now and then
        return x

    def tiles(self, rng: random.Random, m: int, n: int, k: int) -> tuple[int, int, int]:
        def pick(dim: int) -> int:
            return dim if rng.random() < 0.3 else rng.randint(1, dim)

        groups = -(-k // self.lanes)
        return (
            pick(m),
            pick(n),
            self.lanes * (groups if rng.random() < 0.3 else rng.randint(1, groups)),
        )

    def random_case(self, rng: random.Random, index: int) -> Case:
        gen = np.random.default_rng(rng.getrandbits(64))
        dense = self.pattern is None or index % 3 == 1
        while True:
            if index % 4 == 3:  # a conv lowered by im2col
                conv = Conv2d(
                    "conv",
                    h=rng.randint(3, 6),
                    w=rng.randint(3, 6),
                    c=rng.randint(1, 4),
                    r=rng.choice((1, 3)),
                    s=rng.choice((1, 3)),
                    k=rng.randint(1, 2 * self.cols),
                    stride=rng.choice((1, 2)),
                    padding=rng.choice((0, 1)),
                )
                g: GemmShape = conv.gemm()
                if not self.fits(g.m, g.n, g.k, dense):
                    continue
                ifmap = self.operand(gen, (1, conv.h, conv.w, conv.c), 0.4)
                a = conv.lower_activations(ifmap)
                label = f"conv {conv.h}x{conv.w}x{conv.c} {conv.r}x{conv.s}x{conv.k}/{conv.stride}"
            else:
                m = rng.randint(1, 3 * self.rows)
                n = rng.randint(1, 3 * self.cols)
                k = rng.randint(1, 3 * self.rows * self.window(dense))
                if not self.fits(m, n, k, dense):
                    continue
                g = GemmShape(m, n, k)
                a = self.operand(gen, (m, k), 0.3)
                label = "gemm"
            w = self.operand(gen, (g.k, g.n), 0.1)
            if not dense:
                w, _ = prune_nm(w, self.pattern, axis=0)
            return Case(a, w, self.tiles(rng, g.m, g.n, g.k), dense, label)

    # ---- models -------------------------------------------------------------------

    def model_cycles(self, case: Case) -> int:
        (m, k), n = case.a.shape, case.w.shape[1]
        pattern = None if case.dense else self.pattern
        streams = fold_streams(GemmShape(m, n, k), 1, case.tile, self.pe, Dataflow.WS, pattern)
        return streams.compute_cycles(self.pe, Dataflow.WS)

    def schedule(self, case: Case) -> tuple[np.ndarray, int]:
        """Per edge from the first preload: (w_load, swap, act_valid, out_valid) bits,
        by the reference's fold-timing recurrence (simulator.reference.array)."""
        (m, k), n = case.a.shape, case.w.shape[1]
        folds = ws_folds(m, n, k, case.tile, self.pe, None if case.dense else self.pattern)
        r, c = self.rows, self.cols
        starts = []
        p, s = 0, r
        for f, fold in enumerate(folds):
            if f:
                prev_s, prev_t = starts[-1][1], folds[f - 1].stream_len
                if self.overlapped:
                    p = max(p + r, prev_s + r - 1)
                    s = max(prev_s + prev_t, p + r)
                else:
                    p = prev_s + prev_t + r + c - 2
                    s = p + r
            starts.append((p, s))
        total = starts[-1][1] + folds[-1].stream_len + r + c - 2
        bits = np.zeros((total, 4), np.int8)
        for (p, s), fold in zip(starts, folds, strict=True):
            t = fold.stream_len
            bits[p : p + r, 0] = 1
            if self.overlapped:
                bits[s - 1, 1] = 1
            bits[s : s + t, 2] = 1
            bits[s + r + c - 2 : s + r + c - 2 + t, 3] = 1
        return bits, total

    # ---- streams --------------------------------------------------------------------

    def groups(self, case: Case) -> list[int]:
        """Weight groups, window-major then column, each padded to M lanes."""
        win = self.window(case.dense)
        k, n = case.w.shape
        kw = -(-k // win)
        wp = np.zeros((kw * win, n), np.int64)
        wp[:k] = case.w
        out = []
        for g in range(kw):
            for col in range(n):
                lanes = [*wp[g * win : (g + 1) * win, col].tolist(), *[0] * (self.lanes - win)]
                out.append(pack(lanes, self.dw))
        return out

    def windows(self, case: Case) -> list[int]:
        win = self.window(case.dense)
        m, k = case.a.shape
        kw = -(-k // win)
        ap = np.zeros((m, kw * win), np.int64)
        ap[:, :k] = case.a
        pad = [0] * (self.lanes - win)
        return [
            pack([*ap[i, g * win : (g + 1) * win].tolist(), *pad], self.dw)
            for i in range(m)
            for g in range(kw)
        ]

    # Every `yield` below is one clock cycle: the driver loop (test_random_layers)
    # steps the loader and the case runner once per falling edge, so the two
    # share one wake-up per cycle.

    def load(self, cases: list[Case]) -> Iterator[None]:
        dut = self.dut
        for case in cases:
            if dut.busy_o.value:
                self.coverage["load_during_run"] += 1
            yield from self.push(
                dut.w_valid_i, dut.w_ready_o, dut.w_group_i, dut.w_last_i, self.groups(case)
            )
            yield from self.push(
                dut.a_valid_i, dut.a_ready_o, dut.a_window_i, dut.a_last_i, self.windows(case)
            )

    def push(self, valid, ready, data, last, words: list[int]) -> Iterator[None]:
        """A valid/ready stream: each word is held until an edge sees ready high."""
        valid.value = 1
        final = len(words) - 1
        for j, word in enumerate(words):
            data.value = word
            if j == final:
                last.value = 1
            while True:
                go = ready.value  # what the next rising edge samples
                yield
                if go:
                    break
        valid.value = 0
        last.value = 0

    # ---- one case -------------------------------------------------------------------

    def run_cases(self, cases: list[Case]) -> Iterator[None]:
        for i, case in enumerate(cases):
            yield from self.run_case(case, i)

    def run_case(self, case: Case, index: int) -> Iterator[None]:
        dut = self.dut
        (m, k), n = case.a.shape, case.w.shape[1]
        while not dut.cmd_ready_o.value:
            yield
        dut.cmd_dense_i.value = int(case.dense)
        for name, v in (("m", m), ("n", n), ("k", k)):
            getattr(dut, f"cmd_{name}_i").value = v
        for name, v in zip(("tm", "tn", "tk"), case.tile, strict=True):
            getattr(dut, f"cmd_{name}_i").value = v
        dut.cmd_valid_i.value = 1
        yield  # the command edge (e0)
        dut.cmd_valid_i.value = 0
        bits, total = self.schedule(case)
        # sample j (after edge e0 + j): inputs for the edge P0 + j, outputs after
        # edge P0 + j - 1 (P0 = e0 + 1, the first preload edge); compared at the end
        ctrl = dut.ctrl_o
        at_ns = cocotb.utils.get_sim_time("ns")  # the falling edge after e0
        words = [int(ctrl.value)]
        for _ in range(total + 1):
            yield
            words.append(int(ctrl.value))
        seen = (np.array(words, np.int64)[:, None] >> np.arange(4)) & 1
        want = np.zeros_like(seen)
        want[:total, :3] = bits[:, :3]
        want[1 : total + 1, 3] = bits[:, 3]
        names = ("w_load_i", "swap_i", "act_valid_i", "out_valid_o[0]")
        wrong = np.argwhere(seen != want)
        if len(wrong):
            j, s = (int(v) for v in wrong[0])
            edge = j if s < 3 else j - 1
            raise AssertionError(
                f"case {index} ({case}): at edge {edge} of the run (from the first preload), "
                f"array {names[s]} = {seen[j, s]}, expected {want[j, s]} "
                f"(waves: the rising edge at {at_ns + (edge + 0.5) * CLOCK_NS:.0f} ns); "
                f"the fold schedule of simulator.action_counts.ws_folds under "
                f"{self.pe.fold_timing} timing"
            )
        cycles = int(dut.cycles_o.value)
        model = self.model_cycles(case)
        assert cycles == model == total, (
            f"case {index} ({case}): RTL cycles_o = {cycles}, tile model {model}, schedule {total}"
        )
        # outputs, row-major
        got = []
        dut.o_ready_i.value = 1
        o_valid, o_data = dut.o_valid_o, dut.o_data_o
        while len(got) < m * n:
            yield
            if o_valid.value:
                got.append(int(o_data.value))
        assert int(dut.o_last_o.value) == 1, f"case {index}: no o_last_o on the last output"
        yield
        assert not o_valid.value, f"case {index}: outputs past the last one"
        out = np.array(unpack(pack(got, self.acc), m * n, self.acc, signed=True)).reshape(m, n)
        want_o = np.vectorize(lambda v: wrap(int(v), self.acc), otypes=[np.int64])(case.a @ case.w)
        if not np.array_equal(out, want_o):
            bad = np.argwhere(out != want_o)[:5].tolist()
            raise AssertionError(f"case {index} ({case}): outputs differ from A @ W at {bad}")
        counts = unpack(int(dut.counts_o.value), len(COUNT_NAMES), 32, signed=False)
        model_counts = ws_action_counts(
            case.a, case.w, case.tile, self.pe, None if case.dense else self.pattern
        )
        expect = [getattr(model_counts, f) for f in COUNT_NAMES]
        if counts != expect:
            diff = {
                f: (g, e) for f, g, e in zip(COUNT_NAMES, counts, expect, strict=True) if g != e
            }
            raise AssertionError(f"case {index} ({case}): action counts (RTL, model) {diff}")
        cov = self.coverage
        cov["cases"] += 1
        cov["conv" if case.label.startswith("conv") else "gemm"] += 1
        cov["dense" if case.dense else "sparse"] += 1
        cov["gated"] += model_counts.gated_macs > 0
        cov["k_tiles"] += case.tile[2] < k
        cov["wrap"] += bool(np.any(want_o != case.a @ case.w))


@cocotb.test()
async def test_random_layers(dut) -> None:
    """Random tiled GEMMs and im2col convs, dense and N:M, loaded while the previous runs."""
    bench = AccelBench(dut)
    rng = bench_rng("accel_top/random")
    n_cases = bench_cases(DEFAULT_CASES)
    cases = [bench.random_case(rng, i) for i in range(n_cases)]
    for name in ("w_valid_i", "a_valid_i", "w_last_i", "a_last_i", "cmd_valid_i", "o_ready_i"):
        getattr(dut, name).value = 0
    for name in ("w_group_i", "a_window_i", "cmd_dense_i", "cmd_m_i", "cmd_n_i", "cmd_k_i"):
        getattr(dut, name).value = 0
    for name in ("cmd_tm_i", "cmd_tn_i", "cmd_tk_i"):
        getattr(dut, name).value = 0
    await clock_and_reset(dut)
    start = cocotb.utils.get_sim_time("ns")
    edge = FallingEdge(dut.clk_i)
    steps = [bench.load(cases), bench.run_cases(cases)]
    while steps:
        steps = [s for s in steps if next(s, DONE) is not DONE]
        await edge
    edges = int((cocotb.utils.get_sim_time("ns") - start) // CLOCK_NS)
    logger.info("coverage: %s", dict(bench.coverage))
    need = ["sparse"] if bench.pattern else []
    if n_cases >= 4:
        need += ["dense", "conv", "gated"]
    missing = [c for c in need if not bench.coverage[c]]
    assert not missing, f"stimulus never produced {missing}: {dict(bench.coverage)}"
    record_stats("test_random_layers", cases=n_cases, cycles=edges)
