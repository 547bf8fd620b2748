"""Latent parametrisations: what is optimised (Z, W or W+) and how it becomes ws.

Each space turns a parameter tensor into ws [N, num_ws, w_dim]; the optimisation loop is
the same for all. Initialisation:
  mean   - W/W+: `G.w_avg` (in W+ repeated per layer); Z: of 1 000 seeded z, the one whose w
           is nearest to `w_avg` (z = 0 is a singular point of the z normalisation).
  random - a sample of the generator's own distribution: w = mapping(z), z ~ N(0, I),
           seeded per image, so an image's start does not depend on its batch-mates.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import ConfigError
from ..models.stylegan2 import Generator
from ..seeds import z_for_seeds
from .config import INITS, SPACES


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
        with torch.no_grad():
            if self.name == "z":
                z = _mean_z(G) if init == "mean" else z_for_seeds(seeds, G.z_dim, device)
                return z.expand(n, -1).clone() if init == "mean" else z
            if init == "mean":
                w = G.w_avg.view(1, 1, -1).expand(n, 1, -1)
            else:
                w = G.mapping(z_for_seeds(seeds, G.z_dim, device))[:, :1]
            layers = G.num_ws if self.name == "w+" else 1
            return w.expand(n, layers, -1).clone()

    def to_ws(self, G: Generator, param: torch.Tensor) -> torch.Tensor:
        if self.name == "z":
            return G.mapping(param)
        return param.expand(-1, G.num_ws, -1)


def _mean_z(G: Generator, n: int = 1000, seed: int = 0) -> torch.Tensor:
    z = z_for_seeds([seed], G.z_dim * n, G.w_avg.device).view(n, G.z_dim)
    w = G.mapping(z)[:, 0]
    return z[(w - G.w_avg).square().sum(1).argmin()][None]
