"""LPIPS v0.1 with VGG16 (Zhang et al. 2018), an evaluation metric.

Inputs in [-1, 1] are shifted and scaled per channel, VGG16 activations after the ReLU of
conv1_2, conv2_2, conv3_3, conv4_3 and conv5_3 are unit-normalised along channels, their
squared difference is weighted by the learned 1x1 heads (`lin0..lin4`, shipped in
`wplus/weights/lpips/`, BSD-2-Clause), averaged over space and summed over layers.
The VGG16 backbone is torchvision's, resolved like the perceptual loss's.

`LPIPSDistance` is the same distance as an embedding loss term (NVIDIA's projector minimises
it): inputs larger than `resolution` are area-downsampled first, the target's features are
computed once, and a mask weights each layer's spatial mean.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import WplusError
from ..models.vgg16 import VGG16Features, load_vgg16

LPIPS_LAYERS = ("conv1_2", "conv2_2", "conv3_3", "conv4_3", "conv5_3")
HEADS_FILE = "weights/lpips/vgg_v0.1.pth"
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)


def load_heads(path: str | Path | None = None) -> list[torch.Tensor]:
    """The five linear heads' weights, [1, C, 1, 1] each, from LPIPS's `vgg.pth` layout."""
    p = Path(path) if path else Path(str(resources.files("wplus") / HEADS_FILE))
    try:
        state = torch.load(p, map_location="cpu", weights_only=True)
        return [state[f"lin{i}.model.1.weight"].float() for i in range(len(LPIPS_LAYERS))]
    except Exception as exc:
        raise WplusError(f"{p}: cannot read LPIPS heads ({type(exc).__name__}: {exc}); reinstall wplus") from None


class LPIPS(nn.Module):
    """`lpips(x, y)` -> one distance per image, x and y [N, 3, H, W] in [-1, 1]."""

    def __init__(self, vgg: VGG16Features, heads: list[torch.Tensor]) -> None:
        super().__init__()
        self.vgg = vgg
        for i, w in enumerate(heads):
            self.register_buffer(f"head{i}", w)
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1))

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Unit-normalised (along channels, in fp32) activations of the five LPIPS layers."""
        feats = self.vgg((images - self.shift) / self.scale, list(LPIPS_LAYERS))
        return [f / (f.square().sum(1, keepdim=True).sqrt() + 1e-10) for f in (f.float() for f in feats)]

    def distance(self, feats_x: list[torch.Tensor], feats_y: list[torch.Tensor],
                 mask: torch.Tensor | None = None) -> torch.Tensor:
        """Per image: the head-weighted squared difference, averaged over space (weighted by
        `mask` [N, 1, H, W] area-resized to each layer when given), summed over layers."""
        total = feats_x[0].new_zeros(len(feats_x[0]))
        for i, (fx, fy) in enumerate(zip(feats_x, feats_y)):
            weighted = F.conv2d((fx - fy).square(), getattr(self, f"head{i}"))
            if mask is None:
                total = total + weighted.mean((1, 2, 3))
            else:
                weights = F.interpolate(mask, size=fx.shape[-2:], mode="area")
                total = total + (weighted * weights).flatten(1).sum(1) / weights.flatten(1).sum(1).clamp_min(1e-12)
        return total

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.distance(self.features(x), self.features(y))


class LPIPSDistance(nn.Module):
    """LPIPS as an embedding loss term, with the `features` / `distance` interface of
    `PerceptualDistance`; inputs larger than `resolution` are area-downsampled first."""

    def __init__(self, lpips: LPIPS, resolution: int = 256) -> None:
        super().__init__()
        self.lpips = lpips
        self.resolution = resolution

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        if images.shape[-1] > self.resolution:
            images = F.interpolate(images, size=(self.resolution, self.resolution), mode="area")
        return self.lpips.features(images)

    def distance(self, feats_x: list[torch.Tensor], feats_y: list[torch.Tensor],
                 mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.lpips.distance(feats_x, feats_y, mask)


def build_lpips(vgg16: str | Path | None = None, heads: str | Path | None = None) -> LPIPS:
    """LPIPS-VGG; raises VGGWeightsNotFound (with how to get them) without VGG16 weights."""
    return LPIPS(load_vgg16(vgg16), load_heads(heads)).eval().requires_grad_(False)
