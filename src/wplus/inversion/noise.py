"""Per-image noise maps as optimisable parameters (NVIDIA's projector; later Image2StyleGAN++'s W+n).

A generator's noise inputs are the `noise_const` maps [r, r] of its `synthesis.layers()`,
scaled by each layer's `noise_strength`; `G.synthesis(ws, noise=maps)` takes one map per
layer instead. Here every image gets its own maps, [N, 1, r, r] per layer, so images stay
independent in a batch. NVIDIA's projector starts them at N(0, I), penalises their spatial
autocorrelation at every scale down to 8x8 (`noise_regulariser`, weight 1e5) and re-normalises
each map to mean 0, std 1 after every step (`renormalise_noise_`).
"""
from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from ..errors import ConfigError
from ..models.stylegan2 import Generator

NoiseInit = Literal["random", "const"]
_SEED_SALT = 1 << 60  # keeps the maps' random streams apart from the latent's random init


def check_noise_inputs(G: Generator) -> None:
    """Raise `ConfigError` when `G` has no noise inputs to optimise."""
    if not G.synthesis.layers():
        raise ConfigError("this generator has no noise inputs, so its noise maps cannot be optimised")


def init_noise_maps(G: Generator, seeds: list[int], init: NoiseInit = "random") -> list[torch.Tensor]:
    """One map per noise layer, [len(seeds), 1, r, r] each, on G's device.

    `random`: N(0, I) drawn per image from its seed (independent of batch position);
    `const`: the generator's own `noise_const` maps (what `noise_mode="const"` renders)."""
    check_noise_inputs(G)
    layers, device, n = G.synthesis.layers(), G.w_avg.device, len(seeds)
    if init == "const":
        return [layer.noise_const.detach().float().expand(n, 1, -1, -1).clone() for layer in layers]
    if init != "random":
        raise ConfigError(f"unknown noise init {init!r}; choose one of random, const")
    per_image = []
    for seed in seeds:
        gen = torch.Generator().manual_seed(seed ^ _SEED_SALT)
        per_image.append([torch.randn(layer.resolution, layer.resolution, generator=gen) for layer in layers])
    return [torch.stack([maps[k] for maps in per_image])[:, None].to(device) for k in range(len(layers))]


def noise_regulariser(maps: list[torch.Tensor]) -> torch.Tensor:
    """Sum over maps and scales of the squared mean autocorrelation at a 1-pixel shift, per image.

    Each map is compared with itself rolled by one pixel along x and along y; then halved by
    2x2 average pooling and compared again, down to 8x8 (a map of 8 or less is used once).

    Shape:
        maps: [N, 1, r, r] each -> [N]
    """
    total = maps[0].new_zeros(len(maps[0]))
    for m in maps:
        while True:
            total = total + (m * m.roll(1, dims=3)).mean((1, 2, 3)).square()
            total = total + (m * m.roll(1, dims=2)).mean((1, 2, 3)).square()
            if m.shape[2] <= 8:
                break
            m = F.avg_pool2d(m, kernel_size=2)
    return total


@torch.no_grad()
def renormalise_noise_(maps: list[torch.Tensor]) -> None:
    """Shift and scale every image's map to mean 0 and mean square 1, in place."""
    for m in maps:
        m.sub_(m.mean((1, 2, 3), keepdim=True))
        m.mul_(m.square().mean((1, 2, 3), keepdim=True).rsqrt())
