"""Numeric precision of the embedding loop: fp32, or bf16 autocast for the heavy forward passes.

`bf16` runs the synthesis network and VGG16 under `torch.autocast(dtype=bfloat16)`; the
latents, noise maps, the losses' reductions and Adam stay fp32 (the render is cast back to
fp32 before the loss), and on CUDA TF32 is allowed for what is left in fp32 while the run
lasts. `auto` is bf16 for Adam on a CUDA device that supports it, fp32 elsewhere:
  - L-BFGS (the default preset) needs fp32: its curvature pairs come from differences of
    gradients, and bf16 rendering noise in them cost 2.2 dB after 300 steps on the default
    model (Adam: +0.004 dB, max 0.02 dB per image);
  - on the CPU bf16 is opt-in (faster on this project's CPUs with AVX-512 BF16, but the
    test suite and the measured CPU numbers are fp32; docs/benchmarks.md).
"""
from __future__ import annotations

from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Iterator

import torch


def resolve_precision(precision: str, device: torch.device, optimiser: str = "adam") -> str:
    """'auto' -> 'bf16' for Adam on a bf16-capable CUDA device, else 'fp32'; other values unchanged."""
    if precision != "auto":
        return precision
    if device.type == "cuda" and optimiser == "adam" and torch.cuda.is_bf16_supported():
        return "bf16"
    return "fp32"


def autocast(device: torch.device, precision: str) -> AbstractContextManager:
    """The autocast context for the forward passes of a run at `precision` ('fp32' or 'bf16')."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


@contextmanager
def tf32_allowed(device: torch.device, allowed: bool) -> Iterator[None]:
    """Allow TF32 matmuls and convolutions on CUDA inside the block; restores the settings."""
    if device.type != "cuda" or not allowed:
        yield
        return
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved
