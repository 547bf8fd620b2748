"""`wplus mix`: crossover style transfer, LAYERS from STYLE and the rest from CONTENT."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..app import mix_files
from .options import add_edit_options, edit_sources, open_workspace
from .progress import ConsoleProgress


def add_parser(sub) -> None:
    p = sub.add_parser("mix", help="style transfer by crossover: LAYERS from STYLE, the rest from CONTENT")
    p.add_argument("content")
    p.add_argument("style")
    p.add_argument("--layers", default="0-3", help="layers taken from STYLE: e.g. 0-3, 8-17, all")
    p.add_argument("--out", default="wplus-out/mix")
    add_edit_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = mix_files(open_workspace(args), args.content, args.style, Path(args.out), args.layers,
                       edit_sources(args), ConsoleProgress())
    print(f"content | style | mixed (layers {args.layers} from style): {result.figure}, {result.latents}")
    return 0
