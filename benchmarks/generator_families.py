"""Step time of each generator family: forward + backward through synthesis w.r.t. a W+ code.

Random-weight generators of the published widths, all measured in one process, side by side:
  v1    StyleGAN (FFHQ: fmap_base 8192 -> channel_base 16384, channel_max 512)
  v2    StyleGAN2 config-f (channel_base 32768, channel_max 512)
  v3-t  StyleGAN3-T (channel_base 32768, channel_max 512, 3x3 convs)
  v3-r  StyleGAN3-R (channel_base 65536, channel_max 1024, 1x1 convs, radial filters)
Only the generator is timed (no loss network): the cost an embedding step adds per family.
Batch 1, fp32, CPU threads as torch sets them (`--threads 1` gives steadier ratios on a
machine that other processes share).

    python benchmarks/generator_families.py [--resolutions 64,256] [--families v1,v2,v3-t,v3-r]
"""
from __future__ import annotations

import argparse
import platform
import time

import torch

from wplus.models.base import FamilyConfig, GeneratorBase
from wplus.models.families import make_generator
from wplus.models.stylegan1 import StyleGAN1Config
from wplus.models.stylegan2 import GeneratorConfig
from wplus.models.stylegan3 import StyleGAN3Config

FAMILIES = {
    "v1": lambda res: StyleGAN1Config(resolution=res),
    "v2": lambda res: GeneratorConfig(resolution=res),
    "v3-t": lambda res: StyleGAN3Config.preset("t", resolution=res),
    "v3-r": lambda res: StyleGAN3Config.preset("r", resolution=res),
}


def build(cfg: FamilyConfig) -> GeneratorBase:
    torch.manual_seed(0)
    return make_generator(cfg).eval().requires_grad_(False)


def seconds_per_step(G: GeneratorBase, steps: int, batch: int) -> float:
    """Mean wall time of `steps` forward + backward passes (after one warm-up pass)."""
    ws = G.mapping(torch.randn(batch, G.z_dim, generator=torch.Generator().manual_seed(1)))
    ws = ws.detach().requires_grad_(True)
    times = []
    for i in range(steps + 1):
        start = time.perf_counter()
        G.synthesis(ws).square().mean().backward()
        if i:
            times.append(time.perf_counter() - start)
        ws.grad = None
    return sum(times) / len(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolutions", default="64,256")
    parser.add_argument("--families", default="v1,v2,v3-t,v3-r")
    parser.add_argument("--steps", type=int, default=1, help="timed steps per measurement (after one warm-up step)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    families = args.families.split(",")
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}, fp32, batch {args.batch}, {args.steps} timed steps\n")
    print("| family | resolution | num_ws | parameters | s / step | vs v2 |")
    print("|---|---|---|---|---|---|")
    for res in map(int, args.resolutions.split(",")):
        measured = {}
        for name in sorted(families, key=lambda n: n != "v2"):  # v2 first: the others' yardstick
            G = build(FAMILIES[name](res))
            measured[name] = seconds_per_step(G, args.steps, args.batch)
            ratio = f"{measured[name] / measured['v2']:.2f}x" if "v2" in measured else "-"
            params = sum(p.numel() for p in G.parameters()) / 1e6
            print(f"| {name} | {res}² | {G.num_ws} | {params:.1f} M | {measured[name]:.3f} | {ratio} |", flush=True)
            del G


if __name__ == "__main__":
    main()
