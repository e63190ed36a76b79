"""The sweep result store: one SQLite file (stdlib), one row per design point.

Rows are keyed by the content hash of the resolved design point
(`sparsim.sweep.spec.DesignPoint.key`: the arch after overrides, the
workload's identity, sparsity, mapping choice, objective, batch, seed and the
model version), so a rerun computes only the points whose key is missing and
a model change gives new keys. Only the sweep's client writes, one
transaction per batch of points, in WAL mode: a SIGKILL of the client or of
a worker leaves every committed batch and nothing half-written (SQLite's
atomic commit), which `PRAGMA integrity_check` confirms.

Tables: `points` (flat metrics + the full result document as JSON),
`sweep_points` (which sweep asked for which key), `sweeps` (each sweep's
name and spec).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from workloads.errors import InputError
from workloads.inputs import is_regular_file

SCHEMA_VERSION = "1"

# (column, SQL type): the flat view every export, plot and report reads.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("key", "TEXT PRIMARY KEY"),
    ("model_version", "TEXT NOT NULL"),
    ("workload", "TEXT"),
    ("workload_source", "TEXT"),
    ("arch", "TEXT"),
    ("arch_base", "TEXT"),
    ("overrides", "TEXT"),  # JSON object: dotted arch field -> value
    ("sparsity", "TEXT"),  # the spec the point asked for
    ("run_sparsity", "TEXT"),  # the label the result carries (e.g. "stored")
    ("dataflow", "TEXT"),
    ("objective", "TEXT"),
    ("batch", "INTEGER"),
    ("seed", "INTEGER"),
    ("accuracy", "REAL"),
    ("layers", "INTEGER"),
    ("macs", "INTEGER"),
    ("effective_macs", "INTEGER"),
    ("weight_density", "REAL"),
    ("cycles", "INTEGER"),
    ("compute_cycles", "INTEGER"),
    ("fill_drain_cycles", "INTEGER"),
    ("memory_stall_cycles", "INTEGER"),
    ("energy_pj", "REAL"),
    ("edp", "REAL"),
    ("dram_bytes", "INTEGER"),
    ("utilization", "REAL"),
    ("dense_cycles", "INTEGER"),
    ("dense_energy_pj", "REAL"),
    ("speedup", "REAL"),
    ("compute_speedup", "REAL"),
    ("energy_saving", "REAL"),
    ("pes", "INTEGER"),
    ("peak_macs_per_cycle", "INTEGER"),
    ("dram_bytes_per_cycle", "REAL"),
    ("result", "TEXT"),  # the run's to_dict() document (per-layer results)
)
NAMES = tuple(name for name, _ in COLUMNS)
FLAT = tuple(n for n in NAMES if n != "result")


class StoreError(InputError):
    """A file that is not a sparsim result store."""


class Store:
    """A result store file (created on first open). Use as a context manager."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not is_regular_file(self.path):
            raise StoreError(str(self.path), "file", str(self.path), "an existing result store")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.path, timeout=30)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self._create()
        except sqlite3.DatabaseError as err:
            raise StoreError(
                str(self.path), "file", str(self.path), f"a SQLite store ({err})"
            ) from None

    def _create(self) -> None:
        cols = ", ".join(f"{name} {kind}" for name, kind in COLUMNS)
        with self.conn:
            self.conn.execute(f"CREATE TABLE IF NOT EXISTS points ({cols})")
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS sweep_points (sweep TEXT NOT NULL, key TEXT NOT NULL,"
                " PRIMARY KEY (sweep, key))"
            )
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS sweeps (name TEXT PRIMARY KEY, spec TEXT)"
            )
            self.conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self.conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
            )
        found = self.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if found[0] != SCHEMA_VERSION:
            raise StoreError(str(self.path), "schema_version", found[0], SCHEMA_VERSION)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    # --- writing (the sweep's client only) ---------------------------------------------

    def record_sweep(self, name: str, spec: dict, keys: Iterable[str], done: set[str]) -> None:
        """Remember the sweep and link the points it shares with stored ones."""
        with self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO sweeps VALUES (?, ?)", (name, json.dumps(spec, default=str))
            )
            self.conn.executemany(
                "INSERT OR IGNORE INTO sweep_points VALUES (?, ?)",
                [(name, k) for k in keys if k in done],
            )

    def add(self, sweep: str, rows: Sequence[dict]) -> None:
        """One batch of computed points, in one transaction."""
        marks = ", ".join("?" for _ in NAMES)
        with self.conn:
            self.conn.executemany(
                # only a repeated key is skipped (another client stored it first); a
                # bad row fails the whole batch
                f"INSERT INTO points ({', '.join(NAMES)}) VALUES ({marks}) "
                "ON CONFLICT(key) DO NOTHING",
                [tuple(row.get(n) for n in NAMES) for row in rows],
            )
            self.conn.executemany(
                "INSERT OR IGNORE INTO sweep_points VALUES (?, ?)",
                [(sweep, r["key"]) for r in rows],
            )

    def purge_stale(self, model_version: str) -> int:
        """Delete rows computed by another model version; how many went."""
        with self.conn:
            gone = self.conn.execute(
                "DELETE FROM points WHERE model_version != ?", (model_version,)
            ).rowcount
            self.conn.execute("DELETE FROM sweep_points WHERE key NOT IN (SELECT key FROM points)")
        return gone

    # --- reading -------------------------------------------------------------------------

    def keys(self) -> set[str]:
        return {k for (k,) in self.conn.execute("SELECT key FROM points")}

    def sweeps(self) -> list[str]:
        return [n for (n,) in self.conn.execute("SELECT name FROM sweeps ORDER BY name")]

    def sweep_spec(self, name: str) -> dict | None:
        found = self.conn.execute("SELECT spec FROM sweeps WHERE name = ?", (name,)).fetchone()
        return json.loads(found[0]) if found else None

    def rows(self, sweep: str | None = None, *, with_result: bool = False) -> list[dict]:
        """Stored points as dicts (ordered by key, so two stores compare row by row)."""
        names = NAMES if with_result else FLAT
        cols = ", ".join(f"p.{n}" for n in names)
        if sweep is None:
            cur = self.conn.execute(f"SELECT {cols} FROM points p ORDER BY p.key")
        else:
            if sweep not in self.sweeps():
                allowed = ", ".join(self.sweeps()) or "no sweeps stored"
                raise StoreError(str(self.path), "sweep", sweep, allowed)
            cur = self.conn.execute(
                f"SELECT {cols} FROM points p JOIN sweep_points s ON s.key = p.key "
                "WHERE s.sweep = ? ORDER BY p.key",
                (sweep,),
            )
        out = []
        for values in cur:
            row = dict(zip(names, values, strict=True))
            if with_result:
                row["result"] = json.loads(row["result"])
            out.append(row)
        return out

    def dataframe(self, sweep: str | None = None):
        """The flat rows as a pandas DataFrame (pandas is optional: imported here)."""
        import pandas as pd

        return pd.DataFrame(self.rows(sweep), columns=list(FLAT))

    def integrity(self) -> str:
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0]


def read_results(path: str | Path, sweep: str | None = None, *, with_result: bool = False):
    """The rows of a store file (it must exist)."""
    with Store(path, create=False) as store:
        return store.rows(sweep, with_result=with_result)


def results_frame(path: str | Path, sweep: str | None = None):
    """A store's rows as a pandas DataFrame (needs pandas)."""
    with Store(path, create=False) as store:
        return store.dataframe(sweep)


__all__ = ["COLUMNS", "FLAT", "NAMES", "Store", "StoreError", "read_results", "results_frame"]
