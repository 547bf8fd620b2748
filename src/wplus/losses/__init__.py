"""Embedding losses: each gives one value per image, so batch-mates never interact."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import torch

from ..errors import WplusError
from ..models.vgg16 import VGGWeightsNotFound, load_vgg16
from .lpips import LPIPS, LPIPSDistance, load_heads
from .perceptual import I2S_LAYERS, PerceptualDistance
from .pixel import masked_mse, mse, psnr
from .ssim import ms_ssim_per_image

LossKind = Literal["auto", "i2s", "mse", "perceptual", "mse+msssim", "lpips", "auto-lpips"]
LOSS_KINDS: tuple[str, ...] = get_args(LossKind)

__all__ = ["EmbeddingLoss", "build_loss", "LOSS_KINDS", "LossKind", "mse", "masked_mse", "psnr", "ms_ssim_per_image",
           "PerceptualDistance", "LPIPSDistance", "I2S_LAYERS"]


@dataclass
class EmbeddingLoss:
    """`mse_weight * MSE + perceptual_weight * VGG distance + msssim_weight * (1 - MS-SSIM)`.

    The VGG distance is the paper's (`PerceptualDistance`) or LPIPS (`LPIPSDistance`). Under a
    bf16 autocast only VGG16 runs in bf16: the images are taken in fp32 and every other term
    and every reduction is fp32."""

    name: str
    mse_weight: float = 1.0
    perceptual_weight: float = 0.0
    msssim_weight: float = 0.0
    perceptual: PerceptualDistance | LPIPSDistance | None = None
    warning: str | None = None  # one line, set when 'auto' fell back to a loss without VGG16

    def prepare(self, target: torch.Tensor, mask: torch.Tensor | None = None) -> dict[str, Any]:
        """Precompute what depends on the target only (its VGG features), once per embedding.
        `mask` [N, 1, H, W] in [0, 1] weights every term (0 = ignore that pixel)."""
        state: dict[str, Any] = {"target": target, "mask": mask}
        if self.perceptual is not None and self.perceptual_weight:
            with torch.no_grad():
                state["features"] = self.perceptual.features(target)
        return state

    def __call__(self, images: torch.Tensor, state: dict[str, Any]) -> torch.Tensor:
        target, mask = state["target"], state.get("mask")
        images = images.float()
        loss = images.new_zeros(len(images))
        if self.mse_weight:
            loss = loss + self.mse_weight * (mse(images, target) if mask is None else masked_mse(images, target, mask))
        # With a mask, the windowed terms see the ignored pixels taken from the target: they
        # match exactly there, so those pixels neither add to the loss nor get a gradient
        # (VGG and SSIM windows reach across the mask's edge); VGG features are also compared
        # with the mask's weights.
        seen = images if mask is None else mask * images + (1 - mask) * target
        if "features" in state:
            loss = loss + self.perceptual_weight * self.perceptual.distance(
                self.perceptual.features(seen), state["features"], mask)
        if self.msssim_weight:
            with torch.autocast(images.device.type, enabled=False):
                loss = loss + self.msssim_weight * (1 - ms_ssim_per_image(seen, target))
        return loss

    def to(self, device: torch.device | str) -> "EmbeddingLoss":
        """Move VGG16 to `device`; on CUDA its weights go channels-last (cuDNN's fast layout for
        bf16/TF32 convolutions; the CPU path keeps the layout measured there)."""
        if self.perceptual is not None:
            self.perceptual.to(device)
            if torch.device(device).type == "cuda":
                self.perceptual.to(memory_format=torch.channels_last)
        return self


def build_loss(kind: str = "auto", *, vgg16: str | Path | None = None, mse_weight: float = 1.0,
               perceptual_weight: float = 1.0, perceptual_resolution: int = 256,
               layers: tuple[str, ...] = I2S_LAYERS) -> EmbeddingLoss:
    """Build a loss by name. 'auto' = 'i2s' if VGG16 weights exist, else 'mse+msssim' whose
    `warning` says, in one line, how to supply the weights; 'auto-lpips' = 'lpips' (LPIPS-VGG
    alone, NVIDIA's projector's distance) or that same fallback."""
    if kind not in LOSS_KINDS:
        raise WplusError(f"unknown loss {kind!r}; choose one of {', '.join(LOSS_KINDS)}")
    if kind == "mse":
        return EmbeddingLoss("mse", mse_weight=mse_weight)
    if kind == "mse+msssim":
        return EmbeddingLoss("mse+msssim", mse_weight=mse_weight, msssim_weight=1.0)
    try:
        vgg = load_vgg16(vgg16)
    except VGGWeightsNotFound as exc:
        if not kind.startswith("auto"):
            raise
        instead = "LPIPS-VGG" if kind == "auto-lpips" else "the paper's VGG16 loss"
        return EmbeddingLoss("mse+msssim", mse_weight=mse_weight, msssim_weight=1.0,
                             warning=f"using MSE + MS-SSIM instead of {instead} ({exc})")
    if kind.endswith("lpips"):
        lpips = LPIPSDistance(LPIPS(vgg, load_heads()).eval(), perceptual_resolution)
        return EmbeddingLoss("lpips", 0.0, perceptual_weight, perceptual=lpips)
    perceptual = PerceptualDistance(vgg, layers, perceptual_resolution)
    if kind == "perceptual":
        return EmbeddingLoss("perceptual", 0.0, perceptual_weight, perceptual=perceptual)
    return EmbeddingLoss("i2s", mse_weight, perceptual_weight, perceptual=perceptual)
