"""Docs a newcomer can follow from a fresh clone: docs/arch.md is what the
schema generates, and the README points only at files the clone has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulator import arch as arch_module
from sparsim import docs

ROOT = Path(__file__).resolve().parents[1]
TOP_DIRS = ("docs/", "tests/", "simulator/", "mappings/", "workloads/", "hw/", "sparsim/", "bench/")


def test_arch_page_is_what_the_schema_generates():
    """If this fails: `python -m sparsim.docs` and commit docs/arch.md."""
    assert (ROOT / "docs" / "arch.md").read_text() == docs.render(
        docs.walk_schema(), arch_module.FIELD_DOCS
    )


def test_every_field_the_loader_reads_is_on_the_page():
    fields = docs.walk_schema()
    page = (ROOT / "docs" / "arch.md").read_text()
    for path, field in fields.items():
        key = path.rsplit(".", 1)[-1]
        assert f"| `{key}` | {field.kind} |" in page
        assert arch_module.FIELD_DOCS[path] in page
    assert "| `capacity_kib` | number | KiB | required |" in page
    assert "| `latency_cycles` | integer | cycles | `0` |" in page


def test_an_undocumented_or_stale_field_fails_the_generator():
    fields = docs.walk_schema()
    partial = dict(arch_module.FIELD_DOCS)
    del partial["pe_array.rows"]
    with pytest.raises(ValueError, match=r"pe_array\.rows"):
        docs.render(fields, partial)
    stale = {**arch_module.FIELD_DOCS, "pe_array.colour": "a field nobody reads"}
    with pytest.raises(ValueError, match="colour"):
        docs.render(fields, stale)


def test_a_field_added_to_the_loader_is_found_by_walking_it(monkeypatch):
    """The walk reads the loader, not a list: a new key it reads shows up."""
    real = arch_module._parse_pe_array

    def with_new_field(top):
        top.child("pe_array").get("clock_gating", bool, False)
        return real(top)

    monkeypatch.setattr(arch_module, "_parse_pe_array", with_new_field)
    assert "pe_array.clock_gating" in docs.walk_schema()


def test_check_mode_passes_on_the_committed_page():
    assert docs.main(["--check"]) == 0


def _links(md: Path) -> list[str]:
    text = md.read_text()
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    paths = re.findall(r"`([A-Za-z0-9_./-]+)`", text)
    return [t for t in targets if "://" not in t and not t.startswith("#")] + [
        p for p in paths if p.startswith((*TOP_DIRS, "../")) and "*" not in p
    ]


@pytest.mark.parametrize("md", ["README.md", "docs/arch.md", "docs/workloads.md", "docs/rtl.md"])
def test_readme_and_docs_point_only_at_files_the_clone_has(md):
    path = ROOT / md
    for target in _links(path):
        base = path.parent if not target.startswith(TOP_DIRS) else ROOT
        resolved = (base / target.split("#")[0]).resolve()
        assert resolved.is_relative_to(ROOT), f"{md} points outside the clone: {target}"
        assert resolved.exists(), f"{md} points at a missing file: {target}"
