"""`sparsim validate`: sparsim held to published silicon, analytic anchors and
Timeloop v3 / Accelergy reference outputs, written to docs/validation.md.

Two sources of cases, both data:
- `anchors.yaml`: silicon and analytic anchors (source, reference,
  tolerance, why), run by `anchors.run_case`;
- every Timeloop case folder under the shared validation directory
  (`timeloop.find_cases`: a folder with a stats and a map file), compared
  level by level by `timeloop_compare.compare_case`.

`run(fast=True)` runs the cases marked fast and every Timeloop case (each
takes well under a second); the full run adds the slow anchors.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sparsim.validate.anchors import Check, load_anchor_cases, run_case
from sparsim.validate.timeloop import find_cases
from sparsim.validate.timeloop_compare import CaseOutcome, compare_case

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TIMELOOP = REPO.parent / "shared" / "validation" / "timeloop"
# a copy of the shared outputs (Timeloop v3.0.3 + Accelergy 0.3, data only) for clones without it
VENDORED_TIMELOOP = REPO / "tests" / "data" / "timeloop_shared"


GAPS = Path(__file__).with_name("timeloop_gaps.yaml")


def timeloop_gap(case_name: str) -> str:
    """What the model cannot express in a Timeloop case folder, from
    timeloop_gaps.yaml ('' when nothing is recorded)."""
    import fnmatch

    import yaml

    for g in (yaml.safe_load(GAPS.read_text()) or {}).get("gaps", []):
        if fnmatch.fnmatch(case_name, g["match"]) or fnmatch.fnmatch(case_name, g["match"] + "/*"):
            return " ".join(g["reason"].split())
    return ""


def timeloop_root(path: str | Path | None = None) -> Path:
    """The Timeloop reference tree: an explicit path, $SPARSIM_TIMELOOP_REFS,
    ../shared/validation/timeloop beside the repository, or (a clone without
    it) the copy of those outputs the tests carry."""
    if path or os.environ.get("SPARSIM_TIMELOOP_REFS"):
        return Path(path or os.environ["SPARSIM_TIMELOOP_REFS"])
    return DEFAULT_TIMELOOP if DEFAULT_TIMELOOP.is_dir() else VENDORED_TIMELOOP


@dataclass
class Report:
    anchors: list[Check] = field(default_factory=list)
    timeloop: list[CaseOutcome] = field(default_factory=list)
    timeloop_root: Path | None = None
    fast: bool = False
    bench_json: Path | None = REPO / "out" / "bench" / "mapping_speed.json"


def run_anchors(
    fast: bool = False, only: str | None = None, anchors: Path | None = None
) -> list[Check]:
    out: list[Check] = []
    for case in load_anchor_cases(anchors) if anchors else load_anchor_cases():
        if fast and not case.get("fast"):
            continue
        if only and only not in case["id"]:
            continue
        out += run_case(case)
    return out


def run_timeloop(root: Path | None = None) -> list[CaseOutcome]:
    from sparsim.validate.timeloop_run import multi_level, run_plan

    root = timeloop_root(root)
    if not root.is_dir():
        return []
    multi = multi_level()
    return [compare_case(case, run_plan, multi) for case in find_cases(root)]


def run(
    fast: bool = False,
    root: Path | None = None,
    only: str | None = None,
    anchors: Path | None = None,
) -> Report:
    root = timeloop_root(root)
    return Report(run_anchors(fast, only, anchors), run_timeloop(root), root, fast)


__all__ = ["Report", "run", "run_anchors", "run_timeloop", "timeloop_gap", "timeloop_root"]
