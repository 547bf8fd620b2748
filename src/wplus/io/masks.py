"""Mask files: white = keep (match these pixels), black = ignore (holes), grey = a weight."""
from __future__ import annotations

from pathlib import Path

import torch

from ..errors import WplusError
from .images import ImageLoadError, read_rgb, to_generator_input


def load_mask(path: str | Path, resolution: int) -> torch.Tensor:
    """Read a mask of any size and mode, centre-cropped and resized as images are.

    Returns:
        [1, 1, R, R] in [0, 1]; one-line `WplusError` when the file is unreadable or the mask
        is empty (all black).
    """
    try:
        rgb = read_rgb(path)
    except ImageLoadError as exc:
        raise WplusError(f"mask {exc}") from None
    tensor, _ = to_generator_input(rgb, resolution)
    mask = ((tensor + 1) / 2).mean(1, keepdim=True).clamp(0, 1)
    if float(mask.max()) < 1 / 255:
        raise WplusError(f"{path}: the mask is all black (nothing to match); white marks the pixels to keep")
    return mask
