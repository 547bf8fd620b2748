"""InterFaceGAN-style labelled directions: linear boundaries in W of measured attributes,
each also conditioned on the others (`NAME_only`: moves NAME while holding the rest)."""
from __future__ import annotations

import torch

from ..models.stylegan2 import Generator
from .attributes import ATTRIBUTES
from .boundaries import condition, fit_boundary, sample_attributes
from .directions import Direction, DirectionSet, projection_std


def attribute_directions(G: Generator, n: int = 4000, seed: int = 0, layers: list[int] | None = None,
                         fraction: float = 0.3, progress=None) -> DirectionSet:
    """Boundaries of every attribute in `ATTRIBUTES` fitted on `n` seeded samples of `G`
    (their W and their images' attributes), and their conditional versions."""
    w, values = sample_attributes(G, n, seed, progress=progress)
    normals, notes = {}, {}
    for name in ATTRIBUTES:
        normals[name], info = fit_boundary(w, values[name], fraction)
        notes[name] = f"validation accuracy {info.val_accuracy:.2f} on {info.n_val} held-out extremes"
    conditional = {f"{name}_only": condition(normals[name], *(v for k, v in normals.items() if k != name))
                   for name in ATTRIBUTES}
    vectors = {**normals, **conditional}
    scales = projection_std(w.double(), torch.stack(list(vectors.values())).double())
    directions = {}
    for (name, vector), scale in zip(vectors.items(), scales.tolist()):
        note = notes.get(name, f"{name.removesuffix('_only')} with the other attributes held (conditional)")
        directions[name] = Direction(vector, layers, scale, (-3.0, 3.0), "interfacegan", note)
    found = {name: float(torch.isfinite(values[name]).float().mean()) for name in ATTRIBUTES}
    return DirectionSet(directions, G.w_dim, G.fingerprint(),
                        {"method": "attributes", "samples": n, "seed": seed, "fraction": fraction,
                         "measured_share": found})
