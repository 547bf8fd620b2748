"""Seeded latent samples: the same seed gives the same z on every device and batch size."""
from __future__ import annotations

import torch


def z_for_seeds(seeds: list[int], dim: int, device: torch.device | str | None = None) -> torch.Tensor:
    """One z ~ N(0, I) per seed, each from its own generator: [len(seeds), dim]. A row does
    not depend on the other seeds (as NVIDIA's `generate.py --seeds`)."""
    rows = [torch.randn(dim, generator=torch.Generator().manual_seed(s)) for s in seeds]
    return torch.stack(rows).to(device)


def z_block(n: int, dim: int, seed: int, device: torch.device | str | None = None) -> torch.Tensor:
    """`n` rows of z ~ N(0, I) from one generator seeded with `seed`: [n, dim]. Drawing them
    in chunks from that generator gives the same numbers."""
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(seed)).to(device)
