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

from ..errors import WplusError
from ..models.stylegan2 import Generator

SPACES = ("z", "w", "w+")
INITS = ("mean", "random")


def _seeded_normal(seeds: list[int], dim: int, device: torch.device) -> torch.Tensor:
    rows = [torch.randn(dim, generator=torch.Generator().manual_seed(s)) for s in seeds]
    return torch.stack(rows).to(device)


@dataclass(frozen=True)
class LatentSpace:
    name: str

    def __post_init__(self) -> None:
        if self.name not in SPACES:
            raise WplusError(f"unknown latent space {self.name!r}; choose one of {', '.join(SPACES)}")

    def init(self, G: Generator, init: str, seeds: list[int]) -> torch.Tensor:
        """Starting parameter for len(seeds) images: [N, z_dim], [N, 1, w_dim] or [N, num_ws, w_dim]."""
        if init not in INITS:
            raise WplusError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
        device, n = G.w_avg.device, len(seeds)
        with torch.no_grad():
            if self.name == "z":
                z = _mean_z(G) if init == "mean" else _seeded_normal(seeds, G.z_dim, device)
                return z.expand(n, -1).clone() if init == "mean" else z
            if init == "mean":
                w = G.w_avg.view(1, 1, -1).expand(n, 1, -1)
            else:
                w = G.mapping(_seeded_normal(seeds, G.z_dim, device))[:, :1]
            layers = G.num_ws if self.name == "w+" else 1
            return w.expand(n, layers, -1).clone()

    def to_ws(self, G: Generator, param: torch.Tensor) -> torch.Tensor:
        if self.name == "z":
            return G.mapping(param)
        return param.expand(-1, G.num_ws, -1)


def _mean_z(G: Generator, n: int = 1000, seed: int = 0) -> torch.Tensor:
    z = _seeded_normal([seed], G.z_dim * n, G.w_avg.device).view(n, G.z_dim)
    w = G.mapping(z)[:, 0]
    return z[(w - G.w_avg).square().sum(1).argmin()][None]
