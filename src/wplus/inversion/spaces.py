"""Latent parametrisations: what is optimised (Z, W or W+) and how it becomes ws.

Each space turns a parameter tensor into ws [N, num_ws, w_dim]; the optimisation loop is
the same for all. `w+n` is W+ here; its noise maps are `variables.py`'s. Initialisation:
  mean   - W/W+: `G.w_avg` (in W+ repeated per layer); Z: of 1 000 seeded z, the one whose w
           is nearest to `w_avg` (z = 0 is a singular point of the z normalisation).
  random - a sample of the generator's own distribution: w = mapping(z), z ~ N(0, I),
           seeded per image, so an image's start does not depend on its batch-mates.
  sample-mean - as `mean`, with the mean of 10 000 mapped z (seed 123) instead of `G.w_avg`
           (NVIDIA's projector; `w_avg` of a trained generator is a running average instead).
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

import torch

from ..errors import ConfigError
from ..models.stylegan2 import Generator
from ..seeds import z_block, z_for_seeds
from .config import INITS, SPACES

_W_STATS: "weakref.WeakKeyDictionary[Generator, tuple[tuple, tuple[torch.Tensor, float]]]" = (
    weakref.WeakKeyDictionary())


@dataclass(frozen=True)
class LatentSpace:
    name: str

    def __post_init__(self) -> None:
        if self.name not in SPACES:
            raise ConfigError(f"unknown latent space {self.name!r}; choose one of {', '.join(SPACES)}")

    def init(self, G: Generator, init: str, seeds: list[int]) -> torch.Tensor:
        """Starting parameter for len(seeds) images: [N, z_dim], [N, 1, w_dim] or [N, num_ws, w_dim]."""
        if init not in INITS:
            raise ConfigError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
        device, n = G.w_avg.device, len(seeds)
        centre = w_stats(G)[0] if init == "sample-mean" else G.w_avg
        with torch.no_grad():
            if self.name == "z":
                z = _mean_z(G, centre) if init != "random" else z_for_seeds(seeds, G.z_dim, device)
                return z.expand(n, -1).clone() if init != "random" else z
            if init != "random":
                w = centre.view(1, 1, -1).expand(n, 1, -1)
            else:
                w = G.mapping(z_for_seeds(seeds, G.z_dim, device))[:, :1]
            layers = G.num_ws if self.name in ("w+", "w+n") else 1
            return w.expand(n, layers, -1).clone()

    def start(self, G: Generator, ws: torch.Tensor) -> torch.Tensor:
        """The parameter of given starting codes [N, num_ws, w_dim] (W+ and W+n only)."""
        if self.name not in ("w+", "w+n"):
            raise ConfigError(f"starting codes need space w+ or w+n, not {self.name}")
        if ws.ndim != 3 or tuple(ws.shape[1:]) != (G.num_ws, G.w_dim):
            raise ConfigError(f"starting codes must have shape [N, {G.num_ws}, {G.w_dim}], got {list(ws.shape)}")
        return ws.detach().to(G.w_avg.device, torch.float32).clone()

    def to_ws(self, G: Generator, param: torch.Tensor) -> torch.Tensor:
        if self.name == "z":
            return G.mapping(param)
        return param.expand(-1, G.num_ws, -1)


def _mean_z(G: Generator, centre: torch.Tensor, n: int = 1000, seed: int = 0) -> torch.Tensor:
    z = z_for_seeds([seed], G.z_dim * n, G.w_avg.device).view(n, G.z_dim)
    w = G.mapping(z)[:, 0]
    return z[(w - centre).square().sum(1).argmin()][None]


@torch.no_grad()
def w_stats(G: Generator, n: int = 10000, seed: int = 123) -> tuple[torch.Tensor, float]:
    """Mean [w_dim] and std (one number: the RMS distance to the mean) of `n` mapped z,
    as NVIDIA's projector computes them; cached per generator until its mapping changes."""
    key = (str(G.w_avg.device), n, seed, tuple(p._version for p in G.mapping.parameters()))
    cached = _W_STATS.get(G)
    if cached is not None and cached[0] == key:
        return cached[1]
    z = z_block(n, G.z_dim, seed, G.w_avg.device)
    w = torch.cat([G.mapping(chunk)[:, 0] for chunk in z.split(1000)])
    mean = w.mean(0)
    stats = (mean, float((w - mean).square().sum(1).mean().sqrt()))
    _W_STATS[G] = (key, stats)
    return stats
