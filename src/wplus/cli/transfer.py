"""`wplus transfer`: expression transfer, TARGET + strength * (TO - FROM)."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..app import transfer_files
from .options import add_edit_options, edit_sources, open_workspace
from .progress import ConsoleProgress


def add_parser(sub) -> None:
    p = sub.add_parser("transfer", help="expression transfer: TARGET + strength * (TO - FROM)")
    p.add_argument("target")
    p.add_argument("--from", dest="source", required=True)
    p.add_argument("--to", dest="dest", required=True)
    p.add_argument("--strength", type=float, default=1.0)
    p.add_argument("--out", default="wplus-out/transfer")
    add_edit_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = transfer_files(open_workspace(args), args.target, args.source, args.dest, Path(args.out),
                            args.strength, edit_sources(args), ConsoleProgress())
    print(f"target | from | to | result: {result.figure}, {result.latents}")
    return 0
