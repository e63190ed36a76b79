"""The `sparsim` command line (sits on top of the model; nothing below imports it).

One module per subcommand, each with `register(subparsers)`; `COMMANDS`
lists them in the order `--help` shows. Only the module of the command being
run is imported (the others get a placeholder parser with their help line),
so `sparsim run` does not pay for what `verify` or `demo` import. Exit
codes: 0 success; 2 bad input (spec, workload, argument) with a message
naming the file or argument, the field and the allowed values (and the
nearest allowed value to a mistyped one); 1 internal error.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Iterable, Sequence

from sparsim import __version__
from sparsim.cli.common import COMMAND_HELP, Parser, UsageError, did_you_mean
from workloads.errors import MAX_TEXT_CHARS, ImportNote, InputError, printable

COMMANDS = tuple(COMMAND_HELP)


def build_parser(full: Iterable[str] = COMMANDS) -> Parser:
    """The parser with every subcommand: those in `full` registered in full,
    the others as placeholders (their help line for `sparsim --help`)."""
    parser = Parser(
        prog="sparsim",
        description="Simulate sparse DNN workloads on N:M sparse accelerator arrays.",
        epilog="run 'sparsim COMMAND --help' for examples",
    )
    parser.add_argument("--version", action="version", version=f"sparsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name in COMMANDS:
        if name in full:
            importlib.import_module(f"sparsim.cli.{name}").register(sub)
        else:
            sub.add_parser(name, help=COMMAND_HELP[name])
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named in `argv` (the first word not a top-level flag)."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


NOTES_BUDGET_CHARS = 700  # notes before an error still leave the whole of stderr under 2 KB


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    left = NOTES_BUDGET_CHARS
    hidden = 0

    def note(message, category, filename, lineno, file=None, line=None) -> None:
        """A warning (an importer's assumption, an op left out) as one escaped line."""
        nonlocal left, hidden
        if left < 80:
            hidden += 1
            return
        text = printable(str(message), min(left, 2 * MAX_TEXT_CHARS))
        left -= len(text)
        print(f"sparsim: note: {text}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libraries' deprecation chatter is not for users
        warnings.simplefilter("default", ImportNote)
        warnings.showwarning = note
        code = _main(argv)
    if hidden:
        print(f"sparsim: note: {hidden} more notes not shown", file=sys.stderr)
    return code


def _main(argv: list[str]) -> int:
    try:
        command = _command_of(argv)
        args = build_parser([command] if command else []).parse_args(argv)
        return args.func(args)
    except InputError as err:
        hint = "" if "did you mean" in str(err) else did_you_mean(err.value, err.allowed)
        print(f"sparsim: error: {err}{hint}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except BrokenPipeError:
        return 0
    except MemoryError:  # the input's arrays do not fit: still the input's doing
        print(
            "sparsim: error: out of memory; allowed: inputs whose weights and masks fit in "
            "memory (inline shapes past 2^25 weights run shape-only)",
            file=sys.stderr,
        )
        return 2
    except Exception as exc:  # the one place that turns a bug into exit 1
        text = printable(f"{type(exc).__name__}: {exc}", MAX_TEXT_CHARS)
        print(f"sparsim: internal error: {text}", file=sys.stderr)
        return 1


__all__ = ["COMMANDS", "UsageError", "build_parser", "main"]
