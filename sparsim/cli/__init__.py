"""The `sparsim` command line (sits on top of the model; nothing below imports it).

One module per subcommand, each with `register(subparsers)`; `COMMANDS`
lists them in the order `--help` shows. Exit codes: 0 success; 2 bad input
(spec, workload, argument) with a message naming the file or argument, the
field and the allowed values; 1 internal error.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sparsim import __version__
from sparsim.cli import demo, presets, prune, run, validate, verify
from sparsim.cli.common import Parser, UsageError
from workloads.errors import InputError

COMMANDS = (run, prune, verify, validate, presets, demo)


def build_parser() -> Parser:
    parser = Parser(
        prog="sparsim",
        description="Simulate sparse DNN workloads on N:M sparse accelerator arrays.",
        epilog="run 'sparsim COMMAND --help' for examples",
    )
    parser.add_argument("--version", action="version", version=f"sparsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except InputError as err:
        print(f"sparsim: error: {err}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the one place that turns a bug into exit 1
        print(f"sparsim: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


__all__ = ["UsageError", "build_parser", "main"]
