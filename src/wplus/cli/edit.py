"""`wplus edit`: move an image or latent along named semantic directions."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..app import SemanticEdit, directions_for, edit_file, parse_direction, parse_sweep
from .options import add_edit_options, edit_sources, open_workspace
from .progress import ConsoleProgress


def add_parser(sub) -> None:
    p = sub.add_parser("edit", help="semantic edit: move along named directions (smile, yaw, pc0, ...)")
    p.add_argument("input", help="image, latent file, or one code of a multi-code file (seeds.npz:3)")
    p.add_argument("--direction", action="append", default=[], metavar="NAME[=STRENGTH]",
                   help="a direction and its strength in standard deviations (default 1); repeatable")
    p.add_argument("--directions", help="directions file (default: the ones shipped for the default model)")
    p.add_argument("--layers", help="layers to change, e.g. 0-5 (default: each direction's own)")
    p.add_argument("--sweep", help="FROM:TO, e.g. -3:3: a series of edits (strengths times these)")
    p.add_argument("--frames", type=int, default=7, help="edits in a sweep")
    p.add_argument("--video", action="store_true", help="MP4 instead of GIF for a sweep")
    p.add_argument("--out", default="wplus-out/edit")
    add_edit_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    edit = SemanticEdit(tuple(parse_direction(d) for d in args.direction), args.layers,
                        parse_sweep(args.sweep) if args.sweep else None, args.frames)
    ws = open_workspace(args)
    result = edit_file(ws, args.input, edit, Path(args.out), directions_for(ws, args.directions), edit_sources(args),
                       args.video, ConsoleProgress())
    extra = f", {result.animation}" if result.animation else ""
    print(f"input | {len(result.strengths)} edit(s): {result.strip}, {result.latents}{extra}")
    return 0
