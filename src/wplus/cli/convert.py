"""`wplus convert`: an NVIDIA / rosinality checkpoint to wplus `.safetensors`."""
from __future__ import annotations

import argparse

from ..app import convert


def add_parser(sub) -> None:
    p = sub.add_parser("convert", help="convert an NVIDIA/rosinality checkpoint to wplus .safetensors")
    p.add_argument("source")
    p.add_argument("dest")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    G, out = convert(args.source, args.dest)
    print(f"converted {args.source} ({G.source_format}, {G.resolution}x{G.resolution}, num_ws {G.num_ws}) -> {out}")
    return 0
