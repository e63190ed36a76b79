"""Bad-input errors shared by every package.

`InputError` is the one exception the CLI turns into exit code 2. It always
names where the bad value came from (a file or a CLI argument), the field,
the value and what is allowed, so the message is useful without a traceback.

Values in messages go through `shown` (the one helper for this): a bounded
repr, so a YAML alias bomb or a 5,000-digit number prints a few hundred
characters, never gigabytes, and control characters come out escaped.
`printable` does the escaping for names read from files (layer names, arch
names) before they reach a terminal.
"""

from __future__ import annotations

import re
import reprlib
import warnings

MAX_SHOWN_CHARS = 200  # one value in a message
MAX_TEXT_CHARS = 300  # the source or field of a message
MAX_ALLOWED_CHARS = 500  # what is allowed (the longest list of forms fits)
MAX_INT_DIGITS = 30  # an integer field of a spec or workload file (far below Python's 4,300)

# C0 and C1 controls, DEL, and the bidi / zero-width format characters that reorder or hide text
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_DECIMAL = re.compile(r"[+-]?[0-9]+")


class _Bounded(reprlib.Repr):
    """reprlib with limits everywhere, including ints past Python's digit limit."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxdict, self.maxlist, self.maxtuple = 3, 6, 6, 6
        self.maxset = self.maxfrozenset = self.maxdeque = self.maxarray = 6
        self.maxstring = self.maxother = MAX_SHOWN_CHARS
        self.maxlong = 40

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 4000:  # repr() itself refuses past 4,300 digits
            return f"<integer of about {int(x.bit_length() * 0.30103)} digits>"
        return super().repr_int(x, level)

    def repr_str(self, x: str, level: int) -> str:
        return super().repr_str(x[: self.maxstring * 2], level)


_BOUNDED = _Bounded()


def printable(text: str, limit: int | None = None) -> str:
    """`text` with control and bidi characters escaped (\\x1b, \\u202e), cut to `limit`."""
    out = _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    if limit is not None and len(out) > limit:
        out = out[: limit - 3] + "..."
    return out


def shown(value: object) -> str:
    """A value as an error message shows it: bounded repr, controls escaped."""
    try:
        text = _BOUNDED.repr(value)
    except Exception:  # a repr that fails is no reason to lose the error
        text = f"<{type(value).__name__}>"
    return printable(text, MAX_SHOWN_CHARS + 40)


def parse_decimal(text: str, max_digits: int = MAX_INT_DIGITS) -> int | None:
    """The integer an ASCII decimal string spells, or None.

    Stricter than `int()` / `str.isdigit()`: no Unicode digits ('²' passes
    isdigit() and fails int(); '٣' passes both), no underscores, and at most
    `max_digits` digits, so a huge number is a bad value, not a crash.
    """
    text = text.strip()
    if not _DECIMAL.fullmatch(text) or len(text.lstrip("+-")) > max_digits:
        return None
    return int(text)


class InputError(ValueError):
    """A spec, workload or argument that fails validation."""

    def __init__(self, source: str, field: str, value: object, allowed: str) -> None:
        self.source = source
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(
            f"{printable(str(source), MAX_TEXT_CHARS)}: {printable(str(field), MAX_TEXT_CHARS)}"
            f" = {shown(value)}; allowed: {printable(str(allowed), MAX_ALLOWED_CHARS)}"
        )


class WorkloadError(InputError):
    """A workload description (shape string, file, sparsity spec) is invalid."""


class ImportNote(UserWarning):
    """An importer could not know something and says what it assumed instead."""


def note(message: str) -> None:
    """Tell the caller what an importer assumed (a warning; the CLI prints it as a note)."""
    warnings.warn(printable(message, 2 * MAX_ALLOWED_CHARS), ImportNote, stacklevel=3)
