"""The one writer of result files, plots and saved workloads: a *set* of files
in one folder replaced together or not at all, even under SIGKILL.

A write (`write_set`) goes:

1. recover the folder (below), under an exclusive `flock` on the folder;
2. each new file to a hidden temp `.sparsim-tmp.<token>.<name>` beside its
   target (mode 0666 & ~umask, as `open()` would create it), fsynced;
3. the commit journal `.sparsim-commit.json` (which temp becomes which
   name, which old names go), written to its own temp, fsynced and renamed:
   this rename is the commit point;
4. the renames (and removals), a directory fsync, then the journal removed.

Recovery (`recover`, run by every write and by `read_set`) rolls a journal
forward (renames whose temp is still there, removals), then deletes
leftover temps of writes that never reached their commit: after it the
folder holds the old set or the new one, and no temp files. A write that
fails before its commit removes its own temps, so it leaves no stray file.
Concurrent writers of one folder wait for each other (the lock); the lock
is on the folder itself, so it leaves no lock file.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from workloads.errors import InputError

JOURNAL = ".sparsim-commit.json"
TEMP_PREFIX = ".sparsim-tmp."
_JOURNAL_TEMP = JOURNAL + ".tmp"


class WriteError(InputError):
    """An output that cannot be written (a file where a folder should be, no
    permission, a read-only file system, a disk full)."""


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on the folder (no-op where flock is unavailable)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: one writer at a time is the caller's affair
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _write_new(path: Path, data: bytes) -> None:
    """Create `path` (it must not exist) with `data`, fsynced; mode 0666 & ~umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _plain_name(name: str, folder: Path) -> str:
    if not name or Path(name).name != name or name in (".", ".."):
        raise WriteError(str(folder), "file name", name, "a plain file name (no folder part)")
    if name.startswith((TEMP_PREFIX, JOURNAL)):
        raise WriteError(str(folder), "file name", name, f"a name not starting {TEMP_PREFIX!r}")
    return name


def _roll_forward(folder: Path) -> None:
    journal = folder / JOURNAL
    try:
        doc = json.loads(journal.read_bytes())
        moves = [(str(a), str(b)) for a, b in doc["moves"]]
        removes = [str(n) for n in doc.get("removes", [])]
    except FileNotFoundError:
        return
    except (OSError, ValueError, KeyError, TypeError) as err:
        # The journal is renamed into place whole, so this is not ours to fix.
        raise WriteError(
            str(journal), "commit journal", type(err).__name__, "a journal written by sparsim"
        ) from None
    for tmp, final in moves:
        # the same two names `write_set` checked, re-checked: never follow a path out
        if Path(tmp).name != tmp or Path(final).name != final or not tmp.startswith(TEMP_PREFIX):
            raise WriteError(str(journal), "moves", (tmp, final), "plain names in this folder")
        if (folder / tmp).exists():
            os.replace(folder / tmp, folder / final)
    for name in removes:
        if Path(name).name == name:
            (folder / name).unlink(missing_ok=True)
    _fsync_dir(folder)
    journal.unlink()
    _fsync_dir(folder)


def _recover_locked(folder: Path) -> None:
    _roll_forward(folder)
    for entry in folder.iterdir():
        if entry.name.startswith(TEMP_PREFIX) or entry.name == _JOURNAL_TEMP:
            entry.unlink(missing_ok=True)


def recover(folder: str | Path) -> None:
    """Finish or undo an interrupted `write_set` in `folder` (nothing to do: no-op)."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    try:
        with _locked(folder):
            _recover_locked(folder)
    except PermissionError:
        # a folder we may read but not write: an interrupted write there is not ours
        if (folder / JOURNAL).exists():
            raise WriteError(str(folder), "commit journal", JOURNAL, "a writable folder") from None


def write_set(
    folder: str | Path, files: Mapping[str, bytes | str], remove: tuple[str, ...] = ()
) -> list[Path]:
    """Replace the files `files` (name -> content) in `folder` together, and
    remove the names in `remove`, all or nothing. Returns the written paths."""
    folder = Path(folder)
    names = [_plain_name(n, folder) for n in files]
    gone = [_plain_name(n, folder) for n in remove if n not in files]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise WriteError(str(folder), "output folder", str(folder), _why(err)) from None
    token = os.urandom(4).hex()
    temps = {name: f"{TEMP_PREFIX}{token}.{name}" for name in names}
    try:
        with _locked(folder):
            _recover_locked(folder)
            committed = False
            try:
                for name, data in files.items():
                    raw = data.encode() if isinstance(data, str) else bytes(data)
                    _write_new(folder / temps[name], raw)
                journal = json.dumps(
                    {"version": 1, "moves": [[temps[n], n] for n in names], "removes": gone}
                ).encode()
                _write_new(folder / _JOURNAL_TEMP, journal)
                _fsync_dir(folder)
                os.replace(folder / _JOURNAL_TEMP, folder / JOURNAL)  # the commit point
                committed = True
            finally:
                if not committed:
                    for tmp in [*temps.values(), _JOURNAL_TEMP]:
                        (folder / tmp).unlink(missing_ok=True)
            _roll_forward(folder)
    except OSError as err:
        raise WriteError(str(folder), "output folder", str(folder), _why(err)) from None
    return [folder / n for n in names]


def _why(err: OSError) -> str:
    reason = err.strerror or type(err).__name__
    return f"a folder sparsim can create and write ({reason})"


def read_set(folder: str | Path, names: tuple[str, ...]) -> dict[str, bytes]:
    """The files `names` of a set in `folder`, after recovering it."""
    folder = Path(folder)
    recover(folder)
    return {name: (folder / _plain_name(name, folder)).read_bytes() for name in names}


def write_atomic(path: str | Path, data: bytes | str) -> Path:
    """One file, replaced atomically (a set of one)."""
    path = Path(path)
    return write_set(path.parent, {path.name: data})[0]


def json_bytes(doc: object) -> bytes:
    return (json.dumps(doc, indent=2) + "\n").encode()


def write_json(path: str | Path, doc: object) -> Path:
    return write_atomic(path, json_bytes(doc))


__all__ = [
    "JOURNAL",
    "TEMP_PREFIX",
    "WriteError",
    "json_bytes",
    "read_set",
    "recover",
    "write_atomic",
    "write_json",
    "write_set",
]
