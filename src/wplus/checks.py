"""Up-front checks on tensors that raise one-line `WplusError`s."""
from __future__ import annotations

import torch

from .errors import WplusError


def check_same_shape(a: torch.Tensor, b: torch.Tensor, what: str = "latents") -> None:
    if a.shape != b.shape:
        raise WplusError(f"{what} have different shapes {list(a.shape)} and {list(b.shape)}; "
                         "they must come from the same generator")
