"""Per-image noise maps as optimisable parameters (NVIDIA's projector; later Image2StyleGAN++'s W+n).

A generator's noise inputs are the `noise_const` maps [r, r] of its `synthesis.layers()`,
scaled by each layer's `noise_strength`; `G.synthesis(ws, noise=maps)` takes one map per
layer instead. Here every image gets its own maps, [N, 1, r, r] per layer, so images stay
independent in a batch. NVIDIA's projector starts them at N(0, I), penalises their spatial
autocorrelation at every scale down to 8x8 (`noise_regulariser`, weight 1e5) and re-normalises
each map to mean 0, std 1 after every step (`renormalise_noise_`). Image2StyleGAN++'s W+n
(space `w+n`) starts them at the generator's `noise_const` maps, without either by default.
Saved maps are named by layer (`noise_names`: `noise_b8_conv0`, ...).
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
        raise ConfigError("this generator has no noise inputs (StyleGAN3 has none), so there are no noise maps "
                          "to optimise: use space z, w or w+ without noise options")


def noise_names(G: Generator) -> list[str]:
    """One name per noise layer, in `synthesis.layers()` order: 'noise_' + the layer's module
    path under `synthesis` with dots as underscores (StyleGAN2: noise_b4_conv1, noise_b8_conv0, ...)."""
    paths = {id(module): name for name, module in G.synthesis.named_modules()}
    return ["noise_" + paths[id(layer)].replace(".", "_") for layer in G.synthesis.layers()]


def check_noise_maps(G: Generator, maps: list[torch.Tensor], n: int) -> list[torch.Tensor]:
    """`maps` as float32 copies on G's device, [n, 1, r, r] each (a single image's broadcast);
    a one-line `ConfigError` when they do not fit G's noise layers."""
    check_noise_inputs(G)
    layers = G.synthesis.layers()
    if len(maps) != len(layers):
        raise ConfigError(f"noise maps: got {len(maps)}, this generator has {len(layers)} noise layers")
    out = []
    for m, layer in zip(maps, layers):
        r = layer.resolution
        if m.ndim != 4 or tuple(m.shape[1:]) != (1, r, r) or m.shape[0] not in (1, n):
            raise ConfigError(f"noise maps: expected [{n}, 1, {r}, {r}] for a {r}x{r} layer, got {list(m.shape)}")
        out.append(m.detach().to(G.w_avg.device, torch.float32).expand(n, -1, -1, -1).clone())
    return out


def named_noise(G: Generator, maps: list[torch.Tensor], index: slice | int = slice(None)) -> dict[str, torch.Tensor]:
    """`maps[k][index]` by layer name (`noise_names`), [n, 1, r, r] each, for saving beside `w`."""
    index = slice(index, index + 1) if isinstance(index, int) else index
    return {name: m[index].detach() for name, m in zip(noise_names(G), maps)}


def noise_from_named(G: Generator, named: dict[str, torch.Tensor], index: int | None = None,
                     source: str = "noise maps") -> list[torch.Tensor] | None:
    """Maps saved by layer name back in `synthesis.layers()` order (code `index` of each, or all),
    on G's device; None when there are none; a one-line error when they are not G's layers."""
    if not named:
        return None
    names = noise_names(G)
    if sorted(named) != sorted(names):
        missing = [n for n in names if n not in named] or [n for n in named if n not in names]
        raise ConfigError(f"{source}: noise maps do not fit this generator's noise layers "
                          f"({len(named)} saved, {len(names)} expected; e.g. {missing[0]})")
    maps = [named[n] if index is None else named[n][index:index + 1] for n in names]
    return check_noise_maps(G, maps, len(maps[0]))


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
