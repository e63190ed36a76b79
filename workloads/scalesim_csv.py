"""SCALE-Sim topology CSV files, read as SCALE-Sim v3 reads them.

- The first line is a header and is skipped. SCALE-Sim drops the last field
  of every row, so rows end with a comma; a row without one is accepted too.
- Conv form: `name, IFMAP H, IFMAP W, Filter H, Filter W, Channels, Num Filter,
  Stride[, N:M],`. There is no padding: SCALE-Sim computes
  OFMAP = ceil((H - R + S) / S), which we reproduce with zero padding at the
  bottom/right edge where (H - R) is not a multiple of S. A ninth numeric
  field is SCALE-Sim v2's separate width stride. A name containing `DP` is a
  depthwise conv (SCALE-Sim splits it into `Channels` layers of C = 1, each
  with `Num Filter` filters): a grouped conv with groups = Channels.
- GEMM form (`-i gemm` in SCALE-Sim): `name, M, N, K[, N:M],` with M the
  output rows, N the output columns, K the reduction.
- The optional N:M column gives the layer's weight pattern (SCALE-Sim keeps
  the first N of every M; we keep only the descriptor: density N/M).

The form is taken from the header (`IFMAP`/`Filter`/`Channels` words: conv;
`M, N, K`: GEMM), else from the number of fields of the first row. A
topology has no graph: its layers run one after another.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from workloads.errors import WorkloadError, parse_decimal, printable
from workloads.inputs import read_text
from workloads.layers import Conv2d, Gemm, Layer, renamed
from workloads.sparsity import NM
from workloads.sparsity_spec import MAX_NM_M
from workloads.workload import LayerWorkload, Workload

CONV_COLUMNS = (
    "Layer name",
    "IFMAP Height",
    "IFMAP Width",
    "Filter Height",
    "Filter Width",
    "Channels",
    "Num Filter",
    "Strides",
)
GEMM_COLUMNS = ("Layer name", "M", "N", "K")
_NM = re.compile(r"^([0-9]{1,9}):([0-9]{1,9})$")


def _form(header: list[str], first_row: list[str] | None) -> str:
    words = " ".join(header).lower()
    if any(w in words for w in ("ifmap", "filter", "channel")):
        return "conv"
    if [h.strip().upper() for h in header[1:4]] == ["M", "N", "K"]:
        return "gemm"
    numeric = [f for f in (first_row or [])[1:] if parse_decimal(f) is not None]
    return "conv" if len(numeric) >= len(CONV_COLUMNS) - 1 else "gemm"


def _fields(line: str) -> list[str]:
    fields = [f.strip() for f in line.split(",")]
    if fields and fields[-1] == "":
        fields.pop()  # the trailing comma SCALE-Sim needs
    return fields


def _int(source: str, lineno: int, column: str, text: str) -> int:
    value = parse_decimal(text) if text.isascii() and text.isdigit() else None
    if value is None or value < 1:
        raise WorkloadError(source, f"line {lineno}, column '{column}'", text, "a positive integer")
    return value


def _pattern(source: str, lineno: int, text: str) -> NM:
    mt = _NM.match(text)
    if not mt or not 1 <= int(mt.group(1)) <= int(mt.group(2)) <= MAX_NM_M:
        raise WorkloadError(
            source, f"line {lineno}, column 'N:M'", text, f"N:M with 1 <= N <= M <= {MAX_NM_M}"
        )
    return NM(int(mt.group(1)), int(mt.group(2)))


def _conv_row(source: str, lineno: int, f: list[str]) -> tuple[Layer, NM | None]:
    name = printable(f[0])
    h, w, r, s, c, k, stride = (
        _int(source, lineno, col, text) for col, text in zip(CONV_COLUMNS[1:], f[1:8], strict=True)
    )
    stride_w, pattern = stride, None
    for extra in f[8:]:
        if ":" in extra:
            pattern = _pattern(source, lineno, extra)
        else:
            stride_w = _int(source, lineno, "Stride width", extra)
    if r > h or s > w:
        raise WorkloadError(
            source, f"line {lineno} ({name})", f"filter {r}x{s} on ifmap {h}x{w}", "R <= H, S <= W"
        )
    # SCALE-Sim's OFMAP = ceil((H - R + S) / S): pad the bottom/right edge to get it
    pad_b, pad_r = (-(h - r)) % stride, (-(w - s)) % stride_w
    groups = c if "DP" in name else 1
    layer = Conv2d(
        name, h=h, w=w, c=c, r=r, s=s, k=k * groups, stride=(stride, stride_w),
        padding=(0, 0, pad_b, pad_r), groups=groups,
    )  # fmt: skip
    assert layer.out_h == math.ceil((h - r + stride) / stride)
    return layer, pattern


def _gemm_row(source: str, lineno: int, f: list[str]) -> tuple[Layer, NM | None]:
    m, n, k = (
        _int(source, lineno, col, t) for col, t in zip(GEMM_COLUMNS[1:], f[1:4], strict=True)
    )
    pattern = _pattern(source, lineno, f[4]) if len(f) > 4 else None
    return Gemm(printable(f[0]), m=m, n=n, k=k), pattern


def parse_topology(text: str, source: str = "<topology>", name: str | None = None) -> Workload:
    """A SCALE-Sim topology (CSV text) as a shape-only workload."""
    lines = [(i, line) for i, line in enumerate(text.splitlines(), 1) if line.strip()]
    if len(lines) < 2:
        raise WorkloadError(source, "rows", len(lines), "a header line and at least one layer row")
    header = _fields(lines[0][1])
    rows = [(i, _fields(line)) for i, line in lines[1:]]
    form = _form(header, rows[0][1])
    columns = CONV_COLUMNS if form == "conv" else GEMM_COLUMNS
    layers: list[LayerWorkload] = []
    seen: dict[str, int] = {}
    any_pattern = False
    for lineno, f in rows:
        if len(f) < len(columns) or any(not x for x in f[: len(columns)]):
            raise WorkloadError(
                source,
                f"line {lineno} ({f[0] if f else ''})",
                ", ".join(f),
                f"{len(columns)} fields ({form} form): {', '.join(columns)}[, N:M], "
                "ending with a comma",
            )
        row = _conv_row if form == "conv" else _gemm_row
        layer, pattern = row(source, lineno, f)
        seen[layer.name] = seen.get(layer.name, 0) + 1
        if seen[layer.name] > 1:  # SCALE-Sim allows repeated names; our graph needs unique ones
            layer = renamed(layer, f"{layer.name}#{seen[layer.name]}")
        density = pattern.density if pattern else 1.0
        any_pattern |= pattern is not None and not pattern.is_dense
        layers.append(LayerWorkload(layer, density=density, pattern=pattern))
    stem = name or Path(source).stem
    return Workload(
        stem,
        tuple(layers),
        sparsity="stored" if any_pattern else "dense",
        graph=None,  # a chain in file order (`network_graph()`), built only when asked for
    )


def read_topology(path: str | Path) -> Workload:
    p = Path(path)
    return parse_topology(read_text(p, "SCALE-Sim topology CSV"), source=str(p))
