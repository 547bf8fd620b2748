"""Directions files: wplus `.safetensors` (written and read), InterFaceGAN boundary `.npy`
and GANSpace component `.npz` (read).

Why safetensors: like the generators and (later) PTI deltas, it holds named tensors and a
JSON metadata string and never runs code on load; `.npz` would do too, but the project keeps
one container for weights-like files.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from ..errors import WplusError
from ..files import write_atomically
from .directions import Direction, DirectionSet

METADATA_KEY = "wplus_directions"


def save_directions(path: str | Path, dirs: DirectionSet) -> Path:
    """Write a `.safetensors` file: one tensor per direction, the rest as JSON metadata."""
    path = Path(path)
    if path.suffix != ".safetensors":
        raise WplusError(f"{path}: a directions file must end in .safetensors")
    info = {name: {"layers": d.layers, "scale": d.scale, "strength_range": list(d.strength_range),
                   "source": d.source, "note": d.note} for name, d in dirs.directions.items()}
    meta = {"w_dim": dirs.w_dim, "fingerprint": dirs.fingerprint, "directions": info, "meta": dirs.meta}
    tensors = {name: d.vector.detach().float().cpu().contiguous() for name, d in dirs.directions.items()}
    return write_atomically(path, lambda tmp: save_file(tensors, str(tmp), metadata={METADATA_KEY: json.dumps(meta)}),
                            ".safetensors")


def load_directions(path: str | Path) -> DirectionSet:
    """Read a wplus `.safetensors`, an InterFaceGAN boundary `.npy` ([1, w_dim]: one direction
    named after the file) or a GANSpace `.npz` (`lat_comp`, `lat_stdev`: pc0, pc1, ...)."""
    path = Path(path)
    if not path.is_file():
        raise WplusError(f"{path}: no such directions file")
    readers = {".safetensors": _read_native, ".npy": _read_boundary, ".npz": _read_ganspace}
    if path.suffix not in readers:
        raise WplusError(f"{path}: unknown directions format; use .safetensors (wplus), .npy (InterFaceGAN "
                         "boundary) or .npz (GANSpace components)")
    try:
        return readers[path.suffix](path)
    except (OSError, ValueError, KeyError, SafetensorError, json.JSONDecodeError) as exc:
        raise WplusError(f"{path}: not a readable directions file ({type(exc).__name__}: {exc})") from None


def _read_native(path: Path) -> DirectionSet:
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata() or {}
        if METADATA_KEY not in metadata:
            raise WplusError(f"{path}: safetensors file without '{METADATA_KEY}' metadata (not a directions file)")
        meta = json.loads(metadata[METADATA_KEY])
        directions = {name: Direction(f.get_tensor(name), info["layers"], float(info["scale"]),
                                      tuple(info["strength_range"]), info["source"], info.get("note", ""))
                      for name, info in meta["directions"].items()}
    return DirectionSet(directions, int(meta["w_dim"]), meta.get("fingerprint"), meta.get("meta", {}))


def _read_boundary(path: Path) -> DirectionSet:
    vector = torch.from_numpy(np.load(path, allow_pickle=False).astype(np.float32)).reshape(-1)
    vector = vector / vector.norm()
    return DirectionSet({path.stem: Direction(vector, None, 1.0, (-3.0, 3.0), f"file:{path.name} (InterFaceGAN)")},
                        len(vector))


def _read_ganspace(path: Path) -> DirectionSet:
    with np.load(path, allow_pickle=False) as data:
        if "lat_comp" not in data:
            raise WplusError(f"{path}: no 'lat_comp' array (not a GANSpace components file)")
        comps = torch.from_numpy(data["lat_comp"].astype(np.float32))
        comps = comps.reshape(comps.shape[0], -1)
        stdev = data["lat_stdev"].astype(float) if "lat_stdev" in data else np.ones(len(comps))
        ratio = data["var_ratio"].astype(float) if "var_ratio" in data else None
    directions = {f"pc{k}": Direction(c / c.norm(), None, float(stdev[k]), (-3.0, 3.0), f"file:{path.name} (GANSpace)",
                                      f"{100 * ratio[k]:.1f}% of the variance" if ratio is not None else "")
                  for k, c in enumerate(comps)}
    return DirectionSet(directions, comps.shape[1])


def merge(*sets: DirectionSet) -> DirectionSet:
    """One set of all directions (later names win); all must share w_dim."""
    if len({s.w_dim for s in sets}) > 1:
        raise WplusError("cannot merge directions of different w_dim")
    directions: dict[str, Direction] = {}
    for s in sets:
        directions.update(s.directions)
    return DirectionSet(directions, sets[0].w_dim, sets[0].fingerprint, {"merged": [s.meta for s in sets]})
