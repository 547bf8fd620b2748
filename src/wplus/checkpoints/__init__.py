"""Load generators from files, recognising the format by content, never executing code."""
from __future__ import annotations

from pathlib import Path

import torch

from ..errors import WplusError
from ..models.registry import random_default_generator, sha256_file, shipped_weights
from ..models.stylegan2 import Generator
from .native import is_native, load_native, save_generator

__all__ = ["load_generator", "save_generator"]


def _load_default() -> Generator:
    shipped = shipped_weights()
    if shipped is None:
        return random_default_generator()
    path, expected = shipped
    actual = sha256_file(path)
    if actual != expected:
        raise WplusError(f"{path}: checksum mismatch (sha256 {actual[:12]}…, expected "
                         f"{expected[:12]}…); the file is corrupt: reinstall wplus")
    G = load_native(path)
    G.source = f"default: {path.name} (sha256 {expected[:12]})"
    return G


def load_generator(spec: str | Path | None = None, device: str | torch.device = "cpu") -> Generator:
    """Load a generator: `None`/`"default"` gives the embedded default, else a file path.

    The returned generator is in eval mode with gradients disabled for its parameters.
    """
    if spec is None or str(spec) == "default":
        G = _load_default()
    else:
        path = Path(spec)
        if not path.exists():
            raise WplusError(f"{path}: no such generator file (give a path, or 'default')")
        if path.is_dir():
            raise WplusError(f"{path}: is a folder, expected a generator file")
        if path.stat().st_size == 0:
            raise WplusError(f"{path}: the file is empty")
        if not is_native(path):
            raise WplusError(f"{path}: unrecognised generator format; supported now: wplus "
                             ".safetensors (NVIDIA and rosinality checkpoints: convert them "
                             "with a wplus release that supports them)")
        G = load_native(path)
        G.source = str(path)
    return G.to(device)
