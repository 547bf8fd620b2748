#!/usr/bin/env python
"""Train (or continue training) the embedded default model. Resumes from OUT/checkpoint.pt.

    python scripts/train_default.py --out runs/default-model --max-steps 40000
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import fields

import torch

from wplus.errors import WplusError
from wplus.training.default_model import TrainConfig, Trainer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for f in fields(TrainConfig):
        if f.name in ("generator", "betas", "d_betas"):
            continue
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--widths", default=None, help="channel_base,channel_max (for tests)")
    args = parser.parse_args(argv)
    skip = ("generator", "betas", "d_betas")
    values = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if f.name not in skip}
    cfg = TrainConfig(**values)
    if args.widths:
        base, cmax = map(int, args.widths.split(","))
        cfg.generator.update(channel_base=base, channel_max=cmax)
    torch.set_flush_denormal(True)  # denormal floats made CPU steps 10-100x slower
    try:
        trainer = Trainer(cfg, args.device)
        resumed = trainer.resume()
        print(f"{'resumed at' if resumed else 'starting'} step {trainer.step} -> {cfg.max_steps}, "
              f"out {cfg.out}", flush=True)
        trainer.run(log=lambda s: print(s, flush=True))
    except WplusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
