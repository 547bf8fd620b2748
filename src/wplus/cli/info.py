"""`wplus info`: describe a generator."""
from __future__ import annotations

import argparse

from ..app.generators import describe, describe_delta
from ..io.deltas import is_delta_file


def add_parser(sub) -> None:
    p = sub.add_parser("info", help="describe a generator (or a delta made by wplus tune)")
    p.add_argument("generator", nargs="?", default="default")
    p.set_defaults(func=run)


def show_delta(path: str) -> int:
    info = describe_delta(path)
    config = info.meta.get("config", {})
    print(f"delta of:    generator {info.base_fingerprint} (apply with --generator BASE --delta {path})")
    print(f"updates:     {info.low_rank} weights at rank {info.rank if info.rank is not None else 'full'}, "
          f"{info.full} tensors in full; {info.values:,} values, {info.file_bytes / 1024:.0f} KiB")
    if config:
        print(f"tuned:       {info.meta.get('steps', '?')} steps, pivot {config.get('pivot')}, lr {config.get('lr')}, "
              f"loss {info.meta.get('loss', '?')}" + (f", from {info.meta['source']}" if "source" in info.meta else ""))
    return 0


def run(args: argparse.Namespace) -> int:
    if is_delta_file(args.generator):
        return show_delta(args.generator)
    info = describe(args.generator)
    print(f"source:      {info.source}")
    print(f"format:      {info.format}")
    print(f"family:      {info.family}{'' if info.has_noise else ' (no noise inputs)'}")
    if info.file_sha256:
        print(f"file sha256: {info.file_sha256}")
    print(f"resolution:  {info.resolution}x{info.resolution}")
    print(f"num_ws:      {info.num_ws}  w_dim: {info.w_dim}  z_dim: {info.z_dim}")
    print(f"channels:    base {info.channel_base}, max {info.channel_max}; mapping layers {info.mapping_layers}")
    print(f"parameters:  {info.parameters:,}")
    print(f"fingerprint: {info.fingerprint}")
    return 0
