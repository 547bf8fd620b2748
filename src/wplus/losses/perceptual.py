"""Image2StyleGAN perceptual loss on VGG16 activations.

Activations: after the ReLU of conv1_1, conv1_2, conv3_2 and conv4_2 (the paper used Keras
VGG16 layer outputs, which include the ReLU). Inputs are mapped from [-1, 1] to [0, 1],
ImageNet-normalised, and area-downsampled to `resolution` when larger (never up-sampled).
Distance per image: sum over layers of the mean squared feature difference (1/N_l * ||.||²).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..models.vgg16 import IMAGENET_MEAN, IMAGENET_STD, VGG16Features

I2S_LAYERS = ("conv1_1", "conv1_2", "conv3_2", "conv4_2")


class PerceptualDistance(nn.Module):
    """Per-image VGG16 feature distance; `features` is computed once for a fixed target."""

    def __init__(self, vgg: VGG16Features, layers: tuple[str, ...] = I2S_LAYERS,
                 resolution: int = 256) -> None:
        super().__init__()
        self.vgg = vgg
        self.layers = list(layers)
        self.resolution = resolution
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """images: [N, 3, H, W] in [-1, 1] -> one activation tensor per layer."""
        if images.shape[-1] > self.resolution:
            images = F.interpolate(images, size=(self.resolution, self.resolution), mode="area")
        x = ((images + 1) / 2 - self.mean) / self.std
        return self.vgg(x, self.layers)

    @staticmethod
    def distance(feats_x: list[torch.Tensor], feats_y: list[torch.Tensor],
                 mask: torch.Tensor | None = None) -> torch.Tensor:
        """Sum over layers of the mean squared feature difference; with `mask` [N, 1, H, W]
        (any H, W), each layer's mean is weighted by the mask area-resized to that layer."""
        total = 0
        for fx, fy in zip(feats_x, feats_y):
            diff = (fx.float() - fy.float()).square()  # fp32 even when the features are bf16
            if mask is None:
                total = total + diff.flatten(1).mean(1)
            else:
                weights = F.interpolate(mask, size=fx.shape[-2:], mode="area").expand_as(diff)
                total = total + (diff * weights).flatten(1).sum(1) / weights.flatten(1).sum(1).clamp_min(1e-12)
        return total

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.distance(self.features(x), self.features(y))
