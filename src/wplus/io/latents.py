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
    """Return (w [N, num_ws, w_dim] or [N, 1, w_dim], meta) from a wplus / NVIDIA
    `projected_w.npz` (key `w`) or a rosinality `projector.py` `.pt` ({image: {latent, ...}},
    loaded with weights_only). Never unpickles anything else."""
    path = Path(path)
    if path.suffix == ".pt":
        return _load_rosinality_projection(path)
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


def _load_rosinality_projection(path: Path) -> tuple[torch.Tensor, dict]:
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WplusError(f"{path}: not a readable torch latent file ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not data or not all(isinstance(v, dict) and "latent" in v for v in data.values()):
        raise WplusError(f"{path}: expected rosinality projector output {{image: {{'latent': ...}}}}")
    latents = [v["latent"].detach().float() for v in data.values()]
    w = torch.stack([lat[None] if lat.ndim == 1 else lat for lat in latents])
    return w, {"source": "rosinality projector", "images": list(map(str, data))}


def fit_latents(w: torch.Tensor, num_ws: int, w_dim: int, source: str = "latents") -> torch.Tensor:
    """Broadcast W codes [N, 1, w_dim] to [N, num_ws, w_dim]; error naming any mismatch."""
    if w.ndim != 3 or w.shape[2] != w_dim or w.shape[1] not in (1, num_ws):
        raise WplusError(f"{source}: latents of shape {list(w.shape)} do not fit this generator "
                         f"(num_ws {num_ws}, w_dim {w_dim}); they come from another generator")
    return w.expand(-1, num_ws, -1).contiguous()
