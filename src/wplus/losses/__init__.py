"""Embedding losses: each gives one value per image, so batch-mates never interact."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import torch

from ..errors import WplusError
from ..models.vgg16 import VGGWeightsNotFound, load_vgg16
from .perceptual import I2S_LAYERS, PerceptualDistance
from .pixel import mse, psnr
from .ssim import ms_ssim_per_image

LossKind = Literal["auto", "i2s", "mse", "perceptual", "mse+msssim"]
LOSS_KINDS: tuple[str, ...] = get_args(LossKind)

__all__ = ["EmbeddingLoss", "build_loss", "LOSS_KINDS", "LossKind", "mse", "psnr", "ms_ssim_per_image",
           "PerceptualDistance", "I2S_LAYERS"]


@dataclass
class EmbeddingLoss:
    """`mse_weight * MSE + perceptual_weight * VGG distance + msssim_weight * (1 - MS-SSIM)`."""

    name: str
    mse_weight: float = 1.0
    perceptual_weight: float = 0.0
    msssim_weight: float = 0.0
    perceptual: PerceptualDistance | None = None
    warning: str | None = None  # one line, set when 'auto' fell back to a loss without VGG16

    def prepare(self, target: torch.Tensor) -> dict[str, Any]:
        """Precompute what depends on the target only (its VGG features), once per embedding."""
        state: dict[str, Any] = {"target": target}
        if self.perceptual is not None and self.perceptual_weight:
            with torch.no_grad():
                state["features"] = self.perceptual.features(target)
        return state

    def __call__(self, images: torch.Tensor, state: dict[str, Any]) -> torch.Tensor:
        target = state["target"]
        loss = self.mse_weight * mse(images, target) if self.mse_weight else images.new_zeros(len(images))
        if "features" in state:
            loss = loss + self.perceptual_weight * PerceptualDistance.distance(
                self.perceptual.features(images), state["features"])
        if self.msssim_weight:
            loss = loss + self.msssim_weight * (1 - ms_ssim_per_image(images, target))
        return loss

    def to(self, device: torch.device | str) -> "EmbeddingLoss":
        if self.perceptual is not None:
            self.perceptual.to(device)
        return self


def build_loss(kind: str = "auto", *, vgg16: str | Path | None = None, mse_weight: float = 1.0,
               perceptual_weight: float = 1.0, perceptual_resolution: int = 256,
               layers: tuple[str, ...] = I2S_LAYERS) -> EmbeddingLoss:
    """Build a loss by name. 'auto' = 'i2s' if VGG16 weights exist, else 'mse+msssim' whose
    `warning` says, in one line, how to supply the weights."""
    if kind not in LOSS_KINDS:
        raise WplusError(f"unknown loss {kind!r}; choose one of {', '.join(LOSS_KINDS)}")
    if kind == "mse":
        return EmbeddingLoss("mse", mse_weight=mse_weight)
    if kind == "mse+msssim":
        return EmbeddingLoss("mse+msssim", mse_weight=mse_weight, msssim_weight=1.0)
    try:
        vgg = load_vgg16(vgg16)
    except VGGWeightsNotFound as exc:
        if kind != "auto":
            raise
        return EmbeddingLoss("mse+msssim", mse_weight=mse_weight, msssim_weight=1.0,
                             warning=f"using MSE + MS-SSIM instead of the paper's VGG16 loss ({exc})")
    perceptual = PerceptualDistance(vgg, layers, perceptual_resolution)
    if kind == "perceptual":
        return EmbeddingLoss("perceptual", 0.0, perceptual_weight, perceptual=perceptual)
    return EmbeddingLoss("i2s", mse_weight, perceptual_weight, perceptual=perceptual)
