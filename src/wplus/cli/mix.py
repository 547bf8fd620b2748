"""`wplus mix`: crossover style transfer, LAYERS from STYLE and the rest from CONTENT; or,
with --mask, a spatial crossover: CONTENT where the mask is white, STYLE where it is black."""
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
    p.add_argument("--mask", help="spatial crossover (I2S++): an image, white = CONTENT, black = STYLE; "
                                  "optimises a code from CONTENT's with --steps/--space (w+ or w+n)")
    p.add_argument("--out", default="wplus-out/mix")
    add_edit_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = mix_files(open_workspace(args), args.content, args.style, Path(args.out), args.layers,
                       edit_sources(args), ConsoleProgress(), args.mask)
    what = "mask's blend | result" if args.mask else f"mixed (layers {args.layers} from style)"
    print(f"content | style | {what}: {result.figure}, {result.latents}")
    return 0
