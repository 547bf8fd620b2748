"""GPU check of the embedding loop (issue #15): throughput, precision and compile options.

Prints Markdown tables, in about five minutes on one large GPU:
  1. config-f 1024², W+, paper loss (MSE + VGG16 at 256², random VGG weights: same compute),
     batch 1 / 8 / 16: image-steps/s in fp32 and bf16 (bf16 autocast, TF32 for the rest);
  2. the embedded default model (64²), batch 1: ms/step in fp32 and bf16 with Adam (the paper
     preset's loop) and L-BFGS (the default preset's), and with torch.compile ('default',
     'reduce-overhead' = CUDA graphs) in bf16 unless --no-compile;
  3. quality: PSNR of bf16 minus fp32 after --steps steps with each optimiser (default model,
     W+, its own samples, MSE + MS-SSIM; and config-f 256² for a larger network).
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
from wplus.inversion import PRESETS, EmbedConfig, embed
from wplus.losses import EmbeddingLoss, PerceptualDistance, build_loss
from wplus.models.stylegan2 import Generator, GeneratorConfig
from wplus.models.vgg16 import VGG16Features


def synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def seconds_per_step(G, targets, loss, short: int, long: int, **settings) -> float:
    """(time of `long` steps - time of `short` steps) / (long - short): setup cancels out."""
    def run(steps: int) -> float:
        synchronize()
        start = time.perf_counter()
        embed(G, targets, loss=loss, steps=steps, **settings)
        synchronize()
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


def peak_gib() -> float:
    return torch.cuda.max_memory_allocated() / 2 ** 30 if torch.cuda.is_available() else float("nan")


def config_f_table(device: torch.device, batches: list[int], steps: tuple[int, int], resolution: int = 1024) -> None:
    G = random_generator(resolution, device)
    vgg = VGG16Features().eval().requires_grad_(False)
    loss = EmbeddingLoss("i2s", 1.0, 1.0, perceptual=PerceptualDistance(vgg, resolution=256)).to(device)
    pool = own_samples(G, max(batches))
    print(f"\n| config-f {resolution}², W+ (Adam), MSE + VGG16 at 256² | batch | fp32 image-steps/s | "
          "bf16 image-steps/s | "
          "bf16 / fp32 | peak GiB (bf16) |")
    print("|---|---|---|---|---|---|")
    per_image = {}
    for b in batches:
        cells = []
        for precision in ("fp32", "bf16"):
            if torch.cuda.is_available():
                torch.cuda.reset_peak_memory_stats()
            s = seconds_per_step(G, pool[:b], loss, *steps, precision=precision)
            cells.append(b / s)
        per_image[b] = cells[1]
        peak = peak_gib()
        print(f"| | {b} | {cells[0]:.1f} | {cells[1]:.1f} | {cells[1] / cells[0]:.2f}x | {peak:.1f} |", flush=True)
    if 1 in per_image and max(batches) > 1:
        print(f"\nbatch {max(batches)} vs batch 1 per-image throughput (bf16): "
              f"{per_image[max(batches)] / per_image[1]:.1f}x")
    del G, loss
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def default_model_table(device: torch.device, steps: tuple[int, int], compile_modes: list[str]) -> None:
    G = wplus.load_generator(device=device)
    target = own_samples(G, 1)
    loss = build_loss("mse+msssim").to(device)
    print("\n| default model (64²), batch 1, MSE + MS-SSIM | ms / step |")
    print("|---|---|")
    rows = [(p, o, "off") for p in ("fp32", "bf16") for o in ("adam", "lbfgs")]
    rows += [("bf16", o, mode) for mode in compile_modes for o in ("adam", "lbfgs")]
    for precision, optimiser, mode in rows:
        label = f"{precision}, {optimiser}, compile {mode}"
        try:
            s = seconds_per_step(G, target, loss, *steps, precision=precision, compile=mode, optimiser=optimiser)
            print(f"| {label} | {s * 1000:.2f} |", flush=True)
        except Exception as exc:  # a compile failure is a result here, not a crash
            print(f"| {label} | failed: {type(exc).__name__}: {str(exc)[:80]} |", flush=True)


def quality_table(device: torch.device, steps: int, f_resolution: int = 256) -> None:
    print(f"\n| PSNR after {steps} steps, W+, MSE + MS-SSIM | optimiser | fp32 dB | bf16 dB | bf16 - fp32 (mean) | "
          "max abs per image |")
    print("|---|---|---|---|---|---|")
    cases = [("default 64², 8 own samples", wplus.load_generator(device=device), 8),
             (f"config-f {f_resolution}², 4 own samples", random_generator(f_resolution, device), 4)]
    for name, G, n in cases:
        targets = own_samples(G, n, seed=2)
        loss = build_loss("mse+msssim").to(device)
        for config in (EmbedConfig(), PRESETS["default"]):
            fp32 = embed(G, targets, config, loss=loss, steps=steps, precision="fp32").psnr
            bf16 = embed(G, targets, config, loss=loss, steps=steps, precision="bf16").psnr
            diff = bf16 - fp32
            print(f"| {name} | {config.optimiser} | {fp32.mean():.2f} | {bf16.mean():.2f} | {diff.mean():+.3f} | "
                  f"{diff.abs().max():.3f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and batches (a smoke run)")
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile rows")
    parser.add_argument("--steps", type=int, default=300, help="steps of the quality comparison")
    parser.add_argument("--cpu-smoke", action="store_true",
                        help="check this script on a CPU: tiny sizes, no compile; the numbers mean nothing")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.cpu_smoke:
        device = torch.device("cpu")
        config_f_table(device, [1, 2], (1, 2), resolution=32)
        default_model_table(device, (1, 3), [])
        quality_table(device, 3, f_resolution=32)
        print(f"\n(cpu smoke run; {time.perf_counter() - started:.0f} s)")
        return
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device here; run this on a machine with an NVIDIA GPU", file=sys.stderr)
        sys.exit(2)
    device = torch.device("cuda")
    print(f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}, CUDA {torch.version.cuda}, "
          f"bf16 supported: {torch.cuda.is_bf16_supported()}")
    config_f_table(device, [1, 8] if args.quick else [1, 8, 16], (3, 8) if args.quick else (5, 25))
    default_model_table(device, (10, 40) if args.quick else (20, 120),
                        [] if args.no_compile else ["default", "reduce-overhead"])
    quality_table(device, 30 if args.quick else args.steps)
    print(f"\n(one run; {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
