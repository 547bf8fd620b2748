"""Latent files: `.npz` with key `w` [N, num_ws, w_dim] float32 (NVIDIA's `--projected-w`
layout) plus optional arrays (`loss`, `psnr`, ...), a JSON `meta` string and, for W+n codes,
one noise map array per synthesis layer, `noise_<layer>` [N, 1, r, r] float32 (e.g.
`noise_b8_conv0`; `inversion.noise.noise_names`)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from ..errors import WplusError
from ..files import write_atomically


def save_latents(path: str | Path, w: torch.Tensor, meta: dict | None = None,
                 **arrays: np.ndarray | torch.Tensor) -> Path:
    """Write latent codes to an `.npz` file (NVIDIA's `projected_w` layout), atomically.

    Args:
        path: destination `.npz` file.
        w: the codes.
        meta: JSON-serialisable metadata (stored as the string array `meta`).
        **arrays: extra arrays to store, e.g. `loss=...`, `psnr=...`.

    Shape:
        w: [N, num_ws, w_dim] (or [N, 1, w_dim] for W codes); saved as float32.

    Returns:
        `path`, as a `Path`.

    Example:
        >>> import tempfile
        >>> path = save_latents(Path(tempfile.mkdtemp()) / "codes.npz", torch.zeros(2, 10, 256),
        ...                     {"source": "demo"}, psnr=torch.tensor([30.0, 31.0]))
        >>> path.name
        'codes.npz'
    """
    path = Path(path)
    data = {"w": w.detach().cpu().float().numpy()}
    for key, value in arrays.items():
        data[key] = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    data["meta"] = np.array(json.dumps(meta or {}, sort_keys=True, default=str))
    return write_atomically(path, lambda tmp: np.savez(tmp, **data), ".npz")


def load_latents(path: str | Path) -> tuple[torch.Tensor, dict]:
    """Read latent codes from a wplus / NVIDIA `.npz` or a rosinality projector `.pt`.

    `.npz`: the `w` array and the JSON `meta` (pickles are refused). `.pt`: rosinality
    `projector.py` output `{image: {"latent": ...}}`, loaded with `weights_only=True`.

    Args:
        path: the latent file.

    Shape:
        w: [N, num_ws, w_dim] or [N, 1, w_dim] (W codes; `fit_latents` broadcasts them).

    Returns:
        `(w, meta)`: float32 codes and the metadata dict (empty if the file has none).

    Raises:
        WplusError: unreadable file, no `w` array, or `w` not 3-dimensional.

    Example:
        >>> import tempfile
        >>> path = save_latents(Path(tempfile.mkdtemp()) / "codes.npz", torch.ones(2, 10, 256),
        ...                     {"source": "demo"})
        >>> w, meta = load_latents(path)
        >>> w.shape, meta
        (torch.Size([2, 10, 256]), {'source': 'demo'})
    """
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


def load_noise_maps(path: str | Path) -> dict[str, torch.Tensor]:
    """The noise maps saved beside `w` in a wplus `.npz` (arrays named `noise_*`), by name.

    Args:
        path: the latent file (`.pt` and files without maps give `{}`).

    Shape:
        each map: [N, 1, r, r] float32, N as `w`'s.

    Returns:
        `{name: map}` in file order; `inversion.noise.noise_from_named` orders them for a generator.

    Example:
        >>> import tempfile
        >>> path = save_latents(Path(tempfile.mkdtemp()) / "codes.npz", torch.zeros(2, 10, 256),
        ...                     noise_b4_conv1=torch.zeros(2, 1, 4, 4))
        >>> {k: tuple(v.shape) for k, v in load_noise_maps(path).items()}
        {'noise_b4_conv1': (2, 1, 4, 4)}
    """
    path = Path(path)
    if path.suffix == ".pt":
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: torch.from_numpy(data[k].astype(np.float32)) for k in data.files if k.startswith("noise_")}
    except (OSError, ValueError) as exc:
        raise WplusError(f"{path}: not a readable .npz latent file ({exc})") from None


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
