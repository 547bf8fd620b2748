"""Command line: `wplus embed | align | tune | generate | edit | directions | inpaint | morph | mix | transfer |
experiment | embed-dataset | serve | convert | info`. Each command is a module with `add_parser(sub)` and
`run(args) -> exit status`; the work is done by `wplus.app`."""
from __future__ import annotations

import argparse
import sys

from .._version import __version__
from ..app import parse_seeds
from ..errors import WplusError
from . import (
    align,
    convert,
    directions,
    edit,
    embed,
    embed_dataset,
    experiment,
    generate,
    info,
    inpaint,
    mix,
    morph,
    serve,
    transfer,
    tune,
)

COMMANDS = [embed, align, tune, generate, edit, directions, inpaint, morph, mix, transfer, experiment, embed_dataset,
            serve, convert, info]
DESCRIPTION = "Embed images into a StyleGAN's latent space (Image2StyleGAN) and edit them there."

__all__ = ["main", "build_parser", "parse_seeds"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wplus", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"wplus {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def _glue_negative_values(argv: list[str]) -> list[str]:
    """`--sweep -3:3` -> `--sweep=-3:3`: argparse would take '-3:3' for an option."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] == "--sweep" and arg.startswith("-"):
            out[-1] = f"--sweep={arg}"
        else:
            out.append(arg)
    return out


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors are one line on stderr (exit 2), Ctrl-C exits 130."""
    args = build_parser().parse_args(_glue_negative_values(sys.argv[1:] if argv is None else argv))
    try:
        return args.func(args)
    except WplusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: results of finished batches are saved", file=sys.stderr)
        return 130
