"""`wplus info`: describe a generator."""
from __future__ import annotations

import argparse

from ..app import describe


def add_parser(sub) -> None:
    p = sub.add_parser("info", help="describe a generator")
    p.add_argument("generator", nargs="?", default="default")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    info = describe(args.generator)
    print(f"source:      {info.source}")
    print(f"format:      {info.format}")
    if info.file_sha256:
        print(f"file sha256: {info.file_sha256}")
    print(f"resolution:  {info.resolution}x{info.resolution}")
    print(f"num_ws:      {info.num_ws}  w_dim: {info.w_dim}  z_dim: {info.z_dim}")
    print(f"channels:    base {info.channel_base}, max {info.channel_max}; mapping layers {info.mapping_layers}")
    print(f"parameters:  {info.parameters:,}")
    print(f"fingerprint: {info.fingerprint}")
    return 0
