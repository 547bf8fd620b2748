"""GPU check of the embedding loop (issue #15): throughput, precision and compile options.

Prints Markdown tables, in about five minutes on one large GPU:
  1. config-f 1024², W+, paper loss (MSE + VGG16 at 256², random VGG weights: same compute),
     batch 1 / 8 / 16: image-steps/s in fp32 and bf16 (bf16 autocast, TF32 for the rest);
  2. the embedded default model (64²), batch 1: ms/step in fp32 and bf16, and with
     torch.compile ('default', 'reduce-overhead' = CUDA graphs) unless --no-compile;
  3. quality: PSNR of bf16 minus fp32 after --steps steps (default model, W+, its own samples,
     MSE + MS-SSIM; and config-f 256² for a larger network), per image and mean.
Targets of the issue: 1024² batch 8 >= 150 image-steps/s, batch 1 >= 60; default model
batch 1 <= 5 ms/step; batch 16 >= 8x batch 1 per image; bf16 within 0.1 dB of fp32.

    python benchmarks/gpu_check.py [--quick] [--no-compile] [--steps 300]

Exits with a message (status 2) on a machine without CUDA.
"""
from __future__ import annotations

import argparse
import sys
import time

import torch

import wplus
from wplus.inversion import embed
from wplus.losses import EmbeddingLoss, PerceptualDistance, build_loss
from wplus.models.stylegan2 import Generator, GeneratorConfig
from wplus.models.vgg16 import VGG16Features


def seconds_per_step(G, targets, loss, short: int, long: int, **settings) -> float:
    """(time of `long` steps - time of `short` steps) / (long - short): setup cancels out."""
    def run(steps: int) -> float:
        torch.cuda.synchronize()
        start = time.perf_counter()
        embed(G, targets, loss=loss, steps=steps, **settings)
        torch.cuda.synchronize()
        return time.perf_counter() - start
    run(short)  # warm-up (cuDNN autotuning, compilation)
    return (run(long) - run(short)) / (long - short)


def random_generator(resolution: int, device: torch.device) -> Generator:
    torch.manual_seed(0)
    G = Generator(GeneratorConfig(resolution=resolution)).eval().requires_grad_(False).to(device)
    G.compute_w_avg(n=2000)
    return G


def own_samples(G, n: int, seed: int = 1) -> torch.Tensor:
    z = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(seed)).to(G.w_avg.device)
    with torch.no_grad():
        return G.synthesis(G.mapping(z)).clamp(-1, 1)


def config_f_table(device: torch.device, batches: list[int], steps: tuple[int, int]) -> None:
    G = random_generator(1024, device)
    vgg = VGG16Features().eval().requires_grad_(False)
    loss = EmbeddingLoss("i2s", 1.0, 1.0, perceptual=PerceptualDistance(vgg, resolution=256)).to(device)
    pool = own_samples(G, max(batches))
    print("\n| config-f 1024², W+, MSE + VGG16 at 256² | batch | fp32 image-steps/s | bf16 image-steps/s | "
          "bf16 / fp32 | peak GiB (bf16) |")
    print("|---|---|---|---|---|---|")
    per_image = {}
    for b in batches:
        cells = []
        for precision in ("fp32", "bf16"):
            torch.cuda.reset_peak_memory_stats()
            s = seconds_per_step(G, pool[:b], loss, *steps, precision=precision)
            cells.append(b / s)
        per_image[b] = cells[1]
        peak = torch.cuda.max_memory_allocated() / 2 ** 30
        print(f"| | {b} | {cells[0]:.1f} | {cells[1]:.1f} | {cells[1] / cells[0]:.2f}x | {peak:.1f} |", flush=True)
    if 1 in per_image and max(batches) > 1:
        print(f"\nbatch {max(batches)} vs batch 1 per-image throughput (bf16): "
              f"{per_image[max(batches)] / per_image[1]:.1f}x")
    del G, loss
    torch.cuda.empty_cache()


def default_model_table(device: torch.device, steps: tuple[int, int], compile_modes: list[str]) -> None:
    G = wplus.load_generator(device=device)
    target = own_samples(G, 1)
    loss = build_loss("mse+msssim").to(device)
    print("\n| default model (64²), batch 1, MSE + MS-SSIM | ms / step |")
    print("|---|---|")
    for precision in ("fp32", "bf16"):
        for mode in ["off"] + compile_modes:
            try:
                s = seconds_per_step(G, target, loss, *steps, precision=precision, compile=mode)
                print(f"| {precision}, compile {mode} | {s * 1000:.2f} |", flush=True)
            except Exception as exc:  # a compile failure is a result here, not a crash
                print(f"| {precision}, compile {mode} | failed: {type(exc).__name__}: {str(exc)[:80]} |", flush=True)


def quality_table(device: torch.device, steps: int) -> None:
    print(f"\n| PSNR after {steps} steps, W+, MSE + MS-SSIM | fp32 dB | bf16 dB | bf16 - fp32 (mean) | "
          "max abs per image |")
    print("|---|---|---|---|---|")
    cases = [("default 64², 8 own samples", wplus.load_generator(device=device), 8),
             ("config-f 256², 4 own samples", random_generator(256, device), 4)]
    for name, G, n in cases:
        targets = own_samples(G, n, seed=2)
        loss = build_loss("mse+msssim").to(device)
        fp32 = embed(G, targets, loss=loss, steps=steps, precision="fp32").psnr
        bf16 = embed(G, targets, loss=loss, steps=steps, precision="bf16").psnr
        diff = bf16 - fp32
        print(f"| {name} | {fp32.mean():.2f} | {bf16.mean():.2f} | {diff.mean():+.3f} | {diff.abs().max():.3f} |",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and batches (a smoke run)")
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile rows")
    parser.add_argument("--steps", type=int, default=300, help="steps of the quality comparison")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device here; run this on a machine with an NVIDIA GPU", file=sys.stderr)
        sys.exit(2)
    device = torch.device("cuda")
    print(f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}, CUDA {torch.version.cuda}, "
          f"bf16 supported: {torch.cuda.is_bf16_supported()}")
    timing = (3, 8) if args.quick else (5, 25)
    started = time.perf_counter()
    config_f_table(device, [1, 8] if args.quick else [1, 8, 16], timing)
    default_model_table(device, (10, 40) if args.quick else (20, 120),
                        [] if args.no_compile else ["default", "reduce-overhead"])
    quality_table(device, 30 if args.quick else args.steps)
    print(f"\n(one run; {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
