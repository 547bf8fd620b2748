"""Latent files: `.npz` with key `w` [N, num_ws, w_dim] float32 (NVIDIA's `--projected-w`
layout) plus optional arrays (`loss`, `psnr`, ...) and a JSON `meta` string."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from ..errors import WplusError


def save_latents(path: str | Path, w: torch.Tensor, meta: dict | None = None,
                 **arrays: np.ndarray | torch.Tensor) -> Path:
    """Write atomically (temp file, then rename)."""
    path = Path(path)
    data = {"w": w.detach().cpu().float().numpy()}
    for key, value in arrays.items():
        data[key] = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    data["meta"] = np.array(json.dumps(meta or {}, sort_keys=True, default=str))
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **data)
    tmp.replace(path)
    return path


def load_latents(path: str | Path) -> tuple[torch.Tensor, dict]:
    """Return (w [N, num_ws, w_dim], meta). Never unpickles."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            if "w" not in data:
                raise WplusError(f"{path}: no 'w' array in this latent file")
            w = torch.from_numpy(data["w"].astype(np.float32))
            meta = json.loads(str(data["meta"])) if "meta" in data else {}
    except WplusError:
        raise
    except (OSError, ValueError) as exc:
        raise WplusError(f"{path}: not a readable .npz latent file ({exc})") from None
    if w.ndim != 3:
        raise WplusError(f"{path}: 'w' has shape {list(w.shape)}, expected [N, num_ws, w_dim]")
    return w, meta
