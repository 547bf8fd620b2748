"""`wplus align`: write FFHQ-aligned crops of the faces in photos."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..app import align_files
from .progress import ConsoleProgress


def add_parser(sub) -> None:
    p = sub.add_parser("align", help="detect faces and write FFHQ-aligned crops")
    p.add_argument("inputs", nargs="+", help="photos and/or folders")
    p.add_argument("--size", type=int, default=1024, help="output side in pixels")
    p.add_argument("--largest", action="store_true", help="only the largest face per photo")
    p.add_argument("--out", default="wplus-out/aligned")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    result = align_files(args.inputs, out, args.size, args.largest, ConsoleProgress())
    print(f"aligned {len(result.written)} face(s) from {result.inputs - result.skipped} image(s) into {out}/"
          + (f"; skipped {result.skipped}" if result.skipped else ""))
    return 1 if result.skipped else (0 if result.written else 2)
