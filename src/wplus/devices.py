"""The torch device a command runs on, from what the user typed ('auto', 'cpu', 'cuda', 'cuda:1')."""
from __future__ import annotations

import torch

from .errors import WplusError


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise WplusError("--device cuda asked for, but no CUDA GPU is available; use --device cpu")
    return torch.device(name)
