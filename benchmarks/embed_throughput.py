"""Embedding throughput (optimisation steps x images per second), batched vs one at a time.

Runs the real engine (W+, Image2StyleGAN loss with a random-weight VGG16: same compute as
the real weights) on random-weight generators, all in one process, side by side:
  default - the embedded default model's architecture (64², channel_max 128)
  f64     - StyleGAN2 config-f widths (channel_base 32768, channel_max 512) at 64²
  f256    - config-f widths at 256²
Peers' seconds per step (NVIDIA stylegan2-ada `projector.py`, rosinality `projector.py`,
batch 1, config-f widths, fp32) are not run here: they were re-measured side by side, each
with its own projector loop, by the author of the project's code-health issue on this kind
of machine (2 cores); see docs/benchmarks.md. The second table replicates the cost of
NVIDIA's loop inside wplus: `--preset nvidia` (one w, per-image noise maps with the 1e5
autocorrelation penalty and their renormalisation, LPIPS-VGG at up to 256², random VGG
weights and the shipped LPIPS heads), batch 1 and batched, so "vs NVIDIA" compares equal work.

    python benchmarks/embed_throughput.py [--configs default,f64,f256] [--batch-sizes 1,4,16] [--no-nvidia]
                                          [--nvidia-batch-sizes 1,4,16]
                                          [--precision fp32|bf16] [--compile off|default]
                                          [--nvidia-seconds f64=S,f256=S]

`--nvidia-seconds` replaces the quoted NVIDIA seconds per step by ones measured on this machine
(CPU speed and its run-to-run noise differ a lot between machines: measure the peer close in time).
"""
from __future__ import annotations

import argparse
import platform
import time

import torch

from wplus.inversion import PRESETS, embed
from wplus.losses import EmbeddingLoss, LPIPSDistance, PerceptualDistance
from wplus.losses.lpips import LPIPS, load_heads
from wplus.models.registry import DEFAULT_CONFIG
from wplus.models.stylegan2 import Generator, GeneratorConfig
from wplus.models.vgg16 import VGG16Features

CONFIGS = {
    "default": DEFAULT_CONFIG,
    "f64": GeneratorConfig(resolution=64),
    "f256": GeneratorConfig(resolution=256),
}
PEERS = {"f64": {"NVIDIA": 0.535, "rosinality": 0.758}, "f256": {"NVIDIA": 1.585, "rosinality": 2.79}}


def seconds_per_step(G: Generator, loss: EmbeddingLoss, targets: torch.Tensor, steps: int, **settings) -> float:
    embed(G, targets, loss=loss, steps=1, **settings)  # warm-up: allocator, oneDNN primitives
    start = time.perf_counter()
    embed(G, targets, loss=loss, steps=steps, **settings)
    return (time.perf_counter() - start) / steps


def nvidia_rows(vgg: VGG16Features, configs: list[str], batch_sizes: list[int], steps: int, precision: str) -> None:
    """--preset nvidia per image-step, batched, against NVIDIA's own loop (batch 1) on the same widths."""
    loss = EmbeddingLoss("lpips", 0.0, 1.0, perceptual=LPIPSDistance(LPIPS(vgg, load_heads()).eval(), 256))
    print("\n| generator | batch | wplus --preset nvidia, s / image-step | NVIDIA projector.py, s / step | vs NVIDIA |")
    print("|---|---|---|---|---|")
    for name in configs:
        if name not in PEERS:
            continue
        G = Generator(CONFIGS[name]).eval().requires_grad_(False)
        G.compute_w_avg(n=1000)
        with torch.no_grad():
            pool = G.synthesis(G.mapping(torch.randn(max(batch_sizes), G.z_dim)))
        for b in batch_sizes:
            s = seconds_per_step(G, loss, pool[:b], steps, config=PRESETS["nvidia"], precision=precision) / b
            peer = PEERS[name]["NVIDIA"]
            print(f"| {name} ({G.resolution}²) | {b} | {s:.3f} | {peer} | {peer / s:.2f}x |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="default,f64,f256")
    parser.add_argument("--batch-sizes", default="1,4,16")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per measurement")
    parser.add_argument("--loop-images", type=int, default=2, help="images in the one-at-a-time loop")
    parser.add_argument("--nvidia-batch-sizes", default="1,4,16")
    parser.add_argument("--no-nvidia", action="store_true", help="skip the --preset nvidia rows")
    parser.add_argument("--no-wplus", action="store_true", help="skip the W+ table")
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    parser.add_argument("--compile", default="off", choices=("off", "default"),
                        help="torch.compile the render + loss (the warm-up step pays the compile)")
    parser.add_argument("--nvidia-seconds", default="", help="NVIDIA projector.py s/step measured here, "
                        "as config=seconds pairs: f64=1.4,f256=3.7")
    args = parser.parse_args()
    for pair in filter(None, args.nvidia_seconds.split(",")):
        name, _, seconds = pair.partition("=")
        try:
            PEERS[name]["NVIDIA"] = float(seconds)
        except (KeyError, ValueError):
            parser.error(f"--nvidia-seconds: expected f64=S or f256=S (seconds per step), got {pair!r}")
    torch.manual_seed(0)
    vgg = VGG16Features().eval().requires_grad_(False)
    loss = EmbeddingLoss("i2s", 1.0, 1.0, perceptual=PerceptualDistance(vgg, resolution=256))
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}, {args.precision}, compile {args.compile}, W+, {args.steps} timed steps\n")
    if not args.no_wplus:
        wplus_rows(loss, args)
    if not args.no_nvidia:
        nvidia_rows(vgg, args.configs.split(","), [int(b) for b in args.nvidia_batch_sizes.split(",")], args.steps,
                    args.precision)


def wplus_rows(loss: EmbeddingLoss, args: argparse.Namespace) -> None:
    print("| generator | batch | s / step | image-steps / s | vs one-at-a-time loop | vs NVIDIA | vs rosinality |")
    print("|---|---|---|---|---|---|---|")
    for name in args.configs.split(","):
        G = Generator(CONFIGS[name]).eval().requires_grad_(False)
        G.compute_w_avg(n=1000)
        with torch.no_grad():
            pool = G.synthesis(G.mapping(torch.randn(max(map(int, args.batch_sizes.split(","))), G.z_dim)))
        settings = {"precision": args.precision, "compile": args.compile}
        loop = sum(seconds_per_step(G, loss, pool[i:i + 1], args.steps, **settings)
                   for i in range(args.loop_images)) / args.loop_images
        for b in map(int, args.batch_sizes.split(",")):
            per_image = seconds_per_step(G, loss, pool[:b], args.steps, **settings) / b
            peers = PEERS.get(name, {})
            cells = [f"{peers[p] / per_image:.1f}x" if p in peers else "-" for p in ("NVIDIA", "rosinality")]
            print(f"| {name} ({G.resolution}²) | {b} | {per_image * b:.3f} | {1 / per_image:.2f} | "
                  f"{loop / per_image:.2f}x | {cells[0]} | {cells[1]} |", flush=True)


if __name__ == "__main__":
    main()
