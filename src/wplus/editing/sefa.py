"""SeFa (Shen & Zhou 2021): closed-form directions from the style affine weights."""
from __future__ import annotations

import torch

from ..errors import WplusError
from ..models.stylegan2 import Generator
from .directions import Direction, DirectionSet, projection_std
from .ganspace import sample_w


def sefa_matrix(G: Generator, layers: list[int]) -> torch.Tensor:
    """A^T A [w_dim, w_dim] of the conv layers' style affines fed by the W+ `layers` (any
    family: `G.synthesis.style_affines()`; indices without one, such as StyleGAN3's Fourier
    input ws[:, 0], add nothing), each affine row normalised to unit length as SeFa does."""
    affines = G.synthesis.style_affines()
    bad = [i for i in layers if not 0 <= i < G.num_ws]
    if bad or not any(i in affines for i in layers):
        raise WplusError(f"SeFa layers must be among {min(affines)}-{max(affines)} (the conv layers), got {layers}")
    rows = torch.cat([affines[i].weight.detach().double().cpu() for i in layers if i in affines])  # [sum C, w_dim]
    rows = rows / rows.norm(dim=1, keepdim=True)
    return rows.T @ rows


def sefa(G: Generator, layers: list[int], components: int = 10, n: int = 10_000, seed: int = 0,
         prefix: str = "sefa") -> DirectionSet:
    """The top eigenvectors of `sefa_matrix(G, layers)`, named PREFIX0, PREFIX1, ...; each
    edits `layers` by default, its scale the std of W along it (from n samples)."""
    matrix = sefa_matrix(G, layers)
    values, vectors = torch.linalg.eigh(matrix)
    order = values.argsort(descending=True)[:components]
    chosen = vectors[:, order].T  # [K, w_dim]
    scales = projection_std(sample_w(G, n, seed), chosen)
    directions = {f"{prefix}{k}": Direction(chosen[k].float(), list(layers), float(scales[k]), (-3.0, 3.0), "sefa",
                                            f"eigenvalue {float(values[i]):.3g}")
                  for k, i in enumerate(order.tolist())}
    return DirectionSet(directions, G.w_dim, G.fingerprint(), {"method": "sefa", "layers": list(layers)})
