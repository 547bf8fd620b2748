"""GANSpace (Härkönen et al. 2020): principal components of W as editing directions."""
from __future__ import annotations

import torch

from ..models.stylegan2 import Generator
from ..seeds import z_block
from .directions import Direction, DirectionSet


@torch.no_grad()
def sample_w(G: Generator, n: int, seed: int = 0, batch: int = 10_000) -> torch.Tensor:
    """w = mapping(z) for n seeded z: [n, w_dim] (float64 on the CPU, for statistics)."""
    z = z_block(n, G.z_dim, seed, G.w_avg.device)
    return torch.cat([G.mapping(z[i:i + batch])[:, 0].double().cpu() for i in range(0, n, batch)])


def ganspace(G: Generator, components: int = 20, n: int = 100_000, seed: int = 0,
             layers: list[int] | None = None) -> DirectionSet:
    """The first `components` principal directions of W (from n samples), largest variance
    first, named pc0, pc1, ...; each direction's scale is its standard deviation. `layers` are
    the default layers of every edit (GANSpace applies a component to a layer range)."""
    w = sample_w(G, n, seed)
    centred = w - w.mean(0)
    variances, vectors = torch.linalg.eigh(centred.T @ centred / (n - 1))  # ascending
    order = variances.argsort(descending=True)[:components]
    total = variances.sum()
    directions = {}
    for k, i in enumerate(order.tolist()):
        share = float(variances[i] / total)
        directions[f"pc{k}"] = Direction(vectors[:, i].float(), layers, float(variances[i].sqrt()), (-3.0, 3.0),
                                         "ganspace", f"{100 * share:.1f}% of W's variance")
    explained = float(variances[order].sum() / total)
    return DirectionSet(directions, G.w_dim, G.fingerprint(),
                        {"method": "ganspace", "samples": n, "seed": seed, "variance_explained": explained})
