"""Callbacks the embedding loop calls after every step (progress, snapshots, ...)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch


@dataclass
class StepState:
    """What a callback sees after a step. Tensors are detached; `images` are the renders
    whose loss is `loss` (the latents before the optimiser's update)."""

    step: int
    total_steps: int
    loss: torch.Tensor  # [N]
    psnr: torch.Tensor  # [N]
    best_loss: torch.Tensor  # [N]
    images: torch.Tensor  # [N, 3, H, W]
    ws: torch.Tensor  # [N, num_ws, w_dim]
    noise: list[torch.Tensor] | None = None  # w+n / optimise_noise: the maps rendered (live: clone to keep)


class StopEmbedding(Exception):
    """Raised by a callback to end an embedding early; the best results so far are kept."""


class Callback(Protocol):
    def __call__(self, state: StepState) -> None: ...


class Snapshots:
    """Keep the rendered batch every `every` steps (and at the last step), e.g. for a video."""

    def __init__(self, every: int = 10) -> None:
        self.every = max(1, every)
        self.frames: list[tuple[int, torch.Tensor]] = []

    def __call__(self, state: StepState) -> None:
        if state.step % self.every == 0 or state.step == state.total_steps - 1:
            self.frames.append((state.step, state.images.clamp(-1, 1).cpu()))

