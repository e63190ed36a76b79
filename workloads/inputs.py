"""Reading input files defensively: the one place every loader opens a file.

- Only regular files are read (a FIFO or a device would block or never end),
  and text files up to a size cap, decoded as strict UTF-8.
- A path named inside a file (a saved workload's `arrays`, an ONNX model's
  external data) must stay inside that file's own folder.
- Zip archives (.npz, PyTorch's .pt) are checked before anything is unpacked:
  all members together may unpack to 64 MiB or 100x the archive's size,
  whichever is larger (deflate reaches ~1000x on zeros: a zip bomb), and an
  .npy member's header may not promise more bytes than the member holds.

Each function raises the `error` class it is given (an InputError subclass:
WorkloadError for workloads, SpecError for specs), naming the file.
"""

from __future__ import annotations

import math
import stat
import zipfile
import zlib
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from workloads.errors import InputError, WorkloadError

MAX_TEXT_BYTES = 64 * 2**20  # a spec, topology or saved-workload JSON
ZIP_FREE_BYTES = 64 * 2**20  # any archive may unpack to this much
ZIP_MAX_RATIO = 100  # beyond it, unpacked bytes per archive byte


def regular_file(path: str | Path, what: str, error: type[InputError] = WorkloadError) -> Path:
    """`path` if it is an existing regular file (symlinks followed), else `error`."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except (OSError, ValueError) as err:  # ValueError: a NUL byte in the path
        reason = getattr(err, "strerror", None) or str(err)
        raise error(str(p), "file", str(p), f"an existing file: {what} ({reason})") from None
    if not stat.S_ISREG(mode):
        raise error(str(p), "file", str(p), f"a regular file holding {what} (not a folder/pipe)")
    return p


def is_regular_file(path: str | Path) -> bool:
    """Whether `path` is a regular file; False (not an exception) for names the OS
    refuses (too long, a NUL byte) and for folders, pipes and devices."""
    try:
        return stat.S_ISREG(Path(path).stat().st_mode)
    except (OSError, ValueError):
        return False


def read_text(
    path: str | Path,
    what: str,
    error: type[InputError] = WorkloadError,
    max_bytes: int = MAX_TEXT_BYTES,
) -> str:
    """The UTF-8 text of a regular file of at most `max_bytes`."""
    p = regular_file(path, what, error)
    try:
        with p.open("rb") as fh:
            raw = fh.read(max_bytes + 1)
    except OSError as err:
        raise error(str(p), "file", str(p), f"a readable {what} ({err.strerror})") from None
    if len(raw) > max_bytes:
        raise error(str(p), "file size", f"> {max_bytes:,} bytes", f"a {what} up to that size")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise error(
            str(p),
            f"encoding (line {line})",
            f"byte 0x{raw[err.start]:02x} at offset {err.start}",
            "UTF-8 text",
        ) from None


def confined(
    base: Path, name: object, source: str, field: str, error: type[InputError] = WorkloadError
) -> Path:
    """The regular file `name` (relative, from a file in `base`) inside folder `base`."""
    allowed = f"a file name relative to {printable_dir(base)}, inside that folder"
    if not isinstance(name, str) or not name or "\x00" in name or Path(name).is_absolute():
        raise error(source, field, name, allowed)
    target = (base / name).resolve()
    if not target.is_relative_to(base.resolve()):
        raise error(source, field, name, allowed)
    try:
        mode = target.stat().st_mode
    except OSError as err:
        raise error(source, field, name, f"an existing file beside it ({err.strerror})") from None
    if not stat.S_ISREG(mode):
        raise error(source, field, name, "a regular file (not a folder/pipe)")
    return target


def printable_dir(base: Path) -> str:
    return str(base) if str(base) not in ("", ".") else "the current folder"


def check_zip(
    zf: zipfile.ZipFile, archive_bytes: int, source: str, field: str, error: type[InputError]
) -> None:
    """Refuse an archive whose members would unpack to more than the budget."""
    unpacked = sum(info.file_size for info in zf.infolist())
    budget = max(ZIP_FREE_BYTES, ZIP_MAX_RATIO * archive_bytes)
    if unpacked > budget:
        raise error(
            source,
            field,
            f"{unpacked:,} bytes unpacked from {archive_bytes:,}",
            f"an archive unpacking to at most {budget:,} bytes ({ZIP_MAX_RATIO}x its size or "
            f"{ZIP_FREE_BYTES // 2**20} MiB): refused as a zip bomb",
        )


def _npy_header(fh) -> tuple[tuple[int, ...], np.dtype]:
    version = npy_format.read_magic(fh)
    if version == (1, 0):
        shape, _, dtype = npy_format.read_array_header_1_0(fh)
    else:
        shape, _, dtype = npy_format.read_array_header_2_0(fh)
    return shape, dtype


def read_npz(
    path: str | Path,
    what: str = ".npz arrays",
    error: type[InputError] = WorkloadError,
    source: str | None = None,
    field: str = "file",
) -> dict[str, np.ndarray]:
    """Arrays of an .npz (no pickles), checked for zip bombs and short members first."""
    p = regular_file(path, what, error)
    src = source or str(p)
    try:
        with zipfile.ZipFile(p) as zf:
            check_zip(zf, p.stat().st_size, src, field, error)
            arrays = {}
            for info in zf.infolist():
                key = info.filename.removesuffix(".npy")
                with zf.open(info) as fh:
                    shape, dtype = _npy_header(fh)
                    if dtype.hasobject:
                        raise error(
                            src, f"{field} {key}", str(dtype), "numeric arrays (no pickles)"
                        )
                    if math.prod(shape) * dtype.itemsize > info.file_size:
                        raise error(
                            src,
                            f"{field} {key}",
                            f"shape {shape} of {dtype} in a {info.file_size:,}-byte member",
                            "a member holding the data its header describes (not truncated)",
                        )
                with zf.open(info) as fh:
                    arrays[key] = npy_format.read_array(fh, allow_pickle=False)
            return arrays
    except InputError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, MemoryError) as err:
        reason = (str(err).splitlines() or [""])[0]
        raise error(
            src,
            field,
            p.name,
            f"a readable {what} (.npz zip archive): {type(err).__name__} {reason}",
        ) from None
    except (NotImplementedError, RuntimeError, KeyError) as err:  # zip features we can't read
        raise error(
            src, field, p.name, f"a plain .npz zip archive ({type(err).__name__})"
        ) from None
