"""SCALE-Sim v3 `.cfg` files, read as SCALE-Sim 3.0.0 reads them, as an ArchSpec.

Keys are read with the same `configparser` calls and conversions as
`scalesim/scale_config.py` (option names are case-insensitive there too),
with three differences, all toward failing loudly: a missing key, a bad
integer or a dataflow other than os/ws/is is an error naming the file, the
`[section] key` and the allowed values (SCALE-Sim raises, or for the dataflow
prints a warning and runs OS); a key or section SCALE-Sim does not read is
rejected (`[network_presets]` crashes SCALE-Sim; pass the topology with
`--workload`); and row-wise sparsity (`OptimizedMapping : true`) is refused,
since it imposes random sparsity on every layer rather than modelling the
workload's.

Mapping to sparsim (docs/cycles.md):

- `ArrayHeight` x `ArrayWidth` PEs with one multiplier each, serialized fold
  timing (SCALE-Sim's), `Dataflow`, 8-bit words (SCALE-Sim's word is a byte).
- `[sparsity] SparsitySupport : true` is its layer-wise N:M: every N:M a
  layer declares runs with K packed to ceil(K * N / M) (`nm_patterns: any`);
  `SparseRep` picks the weight format (ellpack_block: N:M values + indices;
  csr / csc: CSR). Without it the array is dense only.
- The three SRAMs are one GLB split per operand (`Ifmap/Filter/OfmapSramSzkB`,
  kB = 1024 bytes as SCALE-Sim computes it); SCALE-Sim does not limit
  SRAM-to-array bandwidth, so neither does the GLB here.
- DRAM: `InterfaceBandwidth : CALC` means SCALE-Sim sizes the bandwidth so
  that nothing stalls: unbounded bandwidth, no latency. `USER`: one channel
  of `IfmapSRAMBankBandwidth + FilterSRAMBankBandwidth + Bandwidth[0]`
  words per cycle (SCALE-Sim's ifmap, filter read and ofmap write
  bandwidths; sparsim has one DRAM channel).
- `scalesim_compat`: cycles are reported as SCALE-Sim counts them (from 0)
  and the default mapping streams whole operands, the loop nest SCALE-Sim
  times, so `compute` equals its "Total Cycles".
- Read and checked but not modelled: SRAM offsets, request buffers, custom
  layouts, bank counts and ports, `UseRamulatorTrace`, the random seed.
"""

from __future__ import annotations

import configparser
from pathlib import Path

from mappings.dataflow import Dataflow, FoldTiming, Operand
from simulator.arch import (
    ActivationFormat,
    ArchSpec,
    LevelKind,
    MemLevelSpec,
    MemorySpec,
    PEArraySpec,
    WeightFormat,
)
from simulator.spec_reader import MAX_SPEC_BYTES, SpecError
from workloads.errors import parse_decimal, printable
from workloads.inputs import read_text

# Every option SCALE-Sim 3.0.0 reads, per section (configparser lower-cases names).
KNOWN = {
    "general": {"run_name"},
    "architecture_presets": {
        "arrayheight",
        "arraywidth",
        "ifmapsramszkb",
        "filtersramszkb",
        "ofmapsramszkb",
        "ifmapoffset",
        "filteroffset",
        "ofmapoffset",
        "dataflow",
        "readrequestbuffer",
        "writerequestbuffer",
        "bandwidth",
    },
    "layout": {
        "ifmapcustomlayout",
        "filtercustomlayout",
        "ifmapsrambankbandwidth",
        "ifmapsrambanknum",
        "ifmapsrambankport",
        "filtersrambankbandwidth",
        "filtersrambanknum",
        "filtersrambankport",
    },
    "sparsity": {
        "sparsitysupport",
        "sparserep",
        "optimizedmapping",
        "blocksize",
        "randomnumbergeneratorseed",
    },
    "run_presets": {"interfacebandwidth", "useramulatortrace"},
}
SPARSE_REPS = {"csr": WeightFormat.CSR, "csc": WeightFormat.CSR, "ellpack_block": WeightFormat.NM}


class _Cfg:
    """configparser access with SCALE-Sim's conversions and our error messages."""

    def __init__(self, parser: configparser.ConfigParser, source: str) -> None:
        self.parser, self.source = parser, source

    def error(self, section: str, key: str, value: object, allowed: str) -> SpecError:
        return SpecError(self.source, f"[{section}] {key}", value, allowed)

    def get(self, section: str, key: str) -> str:
        if not self.parser.has_option(section, key):
            raise self.error(section, key, "<missing>", "required by SCALE-Sim v3 (no default)")
        return self.parser.get(section, key)

    def int(self, section: str, key: str, minimum: int = 0) -> int:
        raw = self.get(section, key)
        value = parse_decimal(raw)
        if value is None or value < minimum:
            raise self.error(section, key, raw, f"an integer >= {minimum}")
        return value

    def boolean(self, section: str, key: str) -> bool:
        raw = self.get(section, key)
        try:
            return self.parser.getboolean(section, key)
        except ValueError:
            raise self.error(section, key, raw, "True or False") from None


def read_scalesim_cfg(path: str | Path) -> ArchSpec:
    path = Path(path)
    text = read_text(path, "SCALE-Sim .cfg file", SpecError, MAX_SPEC_BYTES)
    # no interpolation: SCALE-Sim's values are plain text, and '%' in one is not a syntax error
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as err:
        first = str(err).splitlines()[0]
        raise SpecError(
            str(path), "syntax", first, "configparser syntax (SCALE-Sim .cfg)"
        ) from None
    return parse_scalesim_cfg(parser, str(path))


def parse_scalesim_cfg(parser: configparser.ConfigParser, source: str) -> ArchSpec:
    cfg = _Cfg(parser, source)
    for section in parser.sections():
        if section == "network_presets":
            raise cfg.error(
                section, "TopologyCsvLoc", "<section present>", "no [network_presets] (SCALE-Sim"
                " 3.0.0 crashes on it): pass the topology with --workload",
            )  # fmt: skip
        if section not in KNOWN:
            raise cfg.error(section, "<section>", section, f"sections: {', '.join(KNOWN)}")
        unknown = sorted(set(parser.options(section)) - KNOWN[section])
        if unknown:
            raise cfg.error(
                section, unknown[0], parser.get(section, unknown[0]), "keys SCALE-Sim v3 reads: "
                + ", ".join(sorted(KNOWN[section])),
            )  # fmt: skip

    name = printable(cfg.get("general", "run_name"))
    mode = cfg.get("run_presets", "InterfaceBandwidth")
    if mode not in ("USER", "CALC"):
        raise cfg.error("run_presets", "InterfaceBandwidth", mode, "USER or CALC")
    cfg.get("run_presets", "UseRamulatorTrace")  # read, as SCALE-Sim does; trace only

    arch = "architecture_presets"
    rows = cfg.int(arch, "ArrayHeight", 1)
    cols = cfg.int(arch, "ArrayWidth", 1)
    sram_kb = {
        Operand.INPUTS: cfg.int(arch, "IfmapSramSzkB", 1),
        Operand.WEIGHTS: cfg.int(arch, "FilterSramSzkB", 1),
        Operand.OUTPUTS: cfg.int(arch, "OfmapSramSzkB", 1),
    }
    for key in ("IfmapOffset", "FilterOffset", "OfmapOffset"):
        cfg.int(arch, key)
    dataflow_text = cfg.get(arch, "Dataflow")
    if dataflow_text not in ("os", "ws", "is"):
        raise cfg.error(arch, "Dataflow", dataflow_text, "os, ws or is")
    for key in ("ReadRequestBuffer", "WriteRequestBuffer"):
        cfg.int(arch, key, 1)

    lay = "layout"
    cfg.boolean(lay, "IfmapCustomLayout")
    cfg.boolean(lay, "FilterCustomLayout")
    ifmap_bw = cfg.int(lay, "IfmapSRAMBankBandwidth", 1)
    filter_bw = cfg.int(lay, "FilterSRAMBankBandwidth", 1)
    banks = max(cfg.int(lay, "IfmapSRAMBankNum", 1), cfg.int(lay, "FilterSRAMBankNum", 1))
    ports = max(cfg.int(lay, "IfmapSRAMBankPort", 1), cfg.int(lay, "FilterSRAMBankPort", 1))

    if mode == "USER":
        raw = cfg.get(arch, "Bandwidth")
        ofmap_bw = parse_decimal(raw.split(",")[0])
        if ofmap_bw is None or ofmap_bw < 0:
            raise cfg.error(arch, "Bandwidth", raw, "integers >= 0, comma-separated")
        dram_bw, dram_note = float(ifmap_bw + filter_bw + ofmap_bw), "USER bandwidth"
    else:
        dram_bw, dram_note = float("inf"), "CALC: bandwidth sized for no stalls"

    sp = "sparsity"
    support = cfg.get(sp, "SparsitySupport").lower() == "true"
    weight_format = WeightFormat.DENSE
    if support:
        rep = cfg.get(sp, "SparseRep")
        if rep not in SPARSE_REPS:
            raise cfg.error(sp, "SparseRep", rep, "csr, csc or ellpack_block")
        weight_format = SPARSE_REPS[rep]
        if cfg.get(sp, "OptimizedMapping").lower() == "true":
            raise cfg.error(
                sp, "OptimizedMapping", "true", "false: row-wise mode imposes random sparsity on"
                " every layer; sparsim models the layer-wise N:M of the topology",
            )  # fmt: skip
        cfg.int(sp, "RandomNumberGeneratorSeed")

    pe_array = PEArraySpec(
        rows=rows,
        cols=cols,
        multipliers=1,
        nm_patterns=(),
        dataflow=Dataflow(dataflow_text),
        fold_timing=FoldTiming.SERIALIZED,
        data_bits=8,
        acc_bits=32,
        zero_gating=False,
        nm_any=support,
    )
    partition = tuple((op, kb * 1024) for op, kb in sram_kb.items())
    memory = MemorySpec(
        levels=(
            MemLevelSpec("dram", LevelKind.DRAM, None, dram_bw, burst_bytes=1),
            MemLevelSpec(
                "glb",
                LevelKind.SRAM,
                "dram",
                float("inf"),
                capacity_bytes=sum(size for _, size in partition),
                banks=banks,
                ports=ports,
                partition=partition,
            ),
        ),
        weight_format=weight_format,
        activation_format=ActivationFormat.DENSE,
        stages=2,
    )
    sram = "/".join(str(kb) for kb in sram_kb.values())
    return ArchSpec(
        name=name,
        pe_array=pe_array,
        memory=memory,
        clock_mhz=1000.0,
        description=(
            f"SCALE-Sim v3 config: {rows} x {cols} {dataflow_text.upper()}, ifmap/filter/ofmap "
            f"SRAM {sram} kB, {dram_note}" + (", layer-wise N:M" if support else "")
        ),
        source=f"SCALE-Sim v3 .cfg file {source}",
        scalesim_compat=True,
        file=source,
    )
