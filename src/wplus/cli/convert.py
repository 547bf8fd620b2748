"""`wplus convert`: an NVIDIA / rosinality checkpoint to wplus `.safetensors`."""
from __future__ import annotations

import argparse

from ..app import convert


def add_parser(sub) -> None:
    p = sub.add_parser("convert", help="convert an NVIDIA/rosinality checkpoint to wplus .safetensors")
    p.add_argument("source", help="a generator file, or 'default'")
    p.add_argument("dest", help="the .safetensors file to write")
    p.add_argument("--delta", help="bake this delta (from `wplus tune` on SOURCE) into the output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    G, out = convert(args.source, args.dest, args.delta)
    tuned = f" with {args.delta} baked in" if args.delta else ""
    print(f"converted {args.source} ({G.source_format}, {G.resolution}x{G.resolution}, num_ws {G.num_ws})"
          f"{tuned} -> {out}")
    return 0
