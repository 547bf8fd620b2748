"""Spatial crossover (Image2StyleGAN++ local style transfer): one code whose render shows one
image where a mask is white and another where it is black.

Starting from the content code (and its noise maps), a W+ (or W+n) code is optimised with the
sum of two masked losses: against the content render weighted by the mask, and against the
style render weighted by its complement. For the pixel term that sum is the MSE to the
mask's blend of the two renders plus a constant; the windowed terms (VGG16, MS-SSIM) see
each render only through its own region. `result.images` is compared (PSNR) with that blend.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

import torch

from ..errors import WplusError
from ..inversion import Callback, EmbedConfig, EmbedResult, embed
from ..losses import EmbeddingLoss
from ..models.stylegan2 import Generator


class RegionsLoss:
    """`inner` against the target where the mask weights it, plus `inner` against `other`
    where the complement does; per image. An `EmbeddingLoss` for `embed`."""

    def __init__(self, inner: EmbeddingLoss, other: torch.Tensor) -> None:
        self.inner, self.other = inner, other
        self.name, self.warning = f"{inner.name} (two regions)", inner.warning

    def prepare(self, target: torch.Tensor, mask: torch.Tensor | None = None) -> dict[str, Any]:
        if mask is None:
            raise WplusError("a two-region loss needs a mask")
        other = self.other.to(target)
        return {"target": mask * target + (1 - mask) * other,
                "inside": self.inner.prepare(target, mask), "outside": self.inner.prepare(other, 1 - mask)}

    def __call__(self, images: torch.Tensor, state: dict[str, Any]) -> torch.Tensor:
        return self.inner(images, state["inside"]) + self.inner(images, state["outside"])

    def to(self, device: torch.device | str) -> "RegionsLoss":
        self.inner.to(device)
        return self


def check_two_regions(mask: torch.Tensor) -> None:
    """A one-line error unless the mask has some white (content) and some black (style)."""
    low, high = float(mask.min()), float(mask.max())
    if low > 1 - 1 / 255 or high < 1 / 255:
        colour = "white" if low > 1 - 1 / 255 else "black"
        raise WplusError(f"the crossover mask is all {colour}: white marks the content's region, black the style's")


def spatial_crossover(G: Generator, content: torch.Tensor, style: torch.Tensor, mask: torch.Tensor,
                      config: EmbedConfig, loss: EmbeddingLoss, content_noise: list[torch.Tensor] | None = None,
                      style_noise: list[torch.Tensor] | None = None, callbacks: Sequence[Callback] = ()) -> EmbedResult:
    """Optimise a code rendering `content` where `mask` is 1 and `style` where it is 0.

    Args:
        G: the generator.
        content, style: W+ codes; the result starts at `content`.
        mask: per-pixel weight of the content (1) against the style (0); grey blends.
        config: embedding settings; space `w+n` optimises the noise maps too (from the
            content's, or the generator's), any other space optimises W+.
        loss: the loss compared in each region.
        content_noise, style_noise: the codes' noise maps, used to render them (and to start).
        callbacks: passed to `embed` (progress, stop requests).

    Shape:
        content, style: [N, num_ws, w_dim]; mask: [N or 1, 1, R, R].

    Returns:
        The `EmbedResult` (best code per image; PSNR against the mask's blend of the renders).
    """
    check_two_regions(mask)
    with torch.no_grad():
        target = G.synthesis(content, noise=content_noise).clamp(-1, 1)
        other = G.synthesis(style, noise=style_noise).clamp(-1, 1)
    space = "w+n" if config.space == "w+n" else "w+"
    config = replace(config, space=space, optimise_noise=False, latent_noise=0.0, init="mean")
    return embed(G, target, config, loss=RegionsLoss(loss, other), masks=mask, start=content,
                 start_noise=content_noise if space == "w+n" else None, callbacks=callbacks)
