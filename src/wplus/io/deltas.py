"""Delta files: a tuned generator stored as `.safetensors` holding only its weight updates.

Tensors are `down.<param>` / `up.<param>` (low-rank factors) and `full.<param>` (full
updates), saved in float16 by default; the metadata key `wplus_delta` holds JSON with the
base generator's fingerprint, the rank and how the delta was made.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from ..errors import WplusError
from ..files import write_atomically
from ..models.delta import GeneratorDelta

DELTA_KEY = "wplus_delta"
DTYPES = {"float16": torch.float16, "float32": torch.float32}


def save_delta(delta: GeneratorDelta, path: str | Path, dtype: str = "float16") -> Path:
    """Write `delta` (its values must fit `dtype`: see `GeneratorDelta.detached`), atomically."""
    if dtype not in DTYPES:
        raise WplusError(f"unknown delta dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
    cast = lambda t: t.detach().to(DTYPES[dtype]).cpu().contiguous()
    tensors = {f"full.{k}": cast(v) for k, v in delta.full.items()}
    for name, (down, up) in delta.low_rank.items():
        tensors[f"down.{name}"], tensors[f"up.{name}"] = cast(down), cast(up)
    info = {"base_fingerprint": delta.base_fingerprint, "rank": delta.rank, "meta": delta.meta}
    metadata = {DELTA_KEY: json.dumps(info, sort_keys=True, default=str)}
    return write_atomically(Path(path), lambda tmp: save_file(tensors, str(tmp), metadata=metadata), ".safetensors")


def is_delta_file(path: str | Path) -> bool:
    try:
        with safe_open(str(path), framework="pt") as f:
            return DELTA_KEY in (f.metadata() or {})
    except Exception:
        return False


def load_delta(path: str | Path) -> GeneratorDelta:
    """Read a delta file written by `save_delta` (values as float32)."""
    path = Path(path)
    if not path.is_file():
        raise WplusError(f"{path}: no such delta file (made by `wplus tune`)")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = dict(f.metadata() or {})
        tensors = load_file(str(path))
        info = json.loads(metadata[DELTA_KEY])
    except KeyError:
        raise WplusError(f"{path}: not a wplus delta (no '{DELTA_KEY}' metadata); make one with `wplus tune`") from None
    except (SafetensorError, OSError, RuntimeError, json.JSONDecodeError) as exc:
        raise WplusError(f"{path}: not a readable delta file ({exc})") from None
    delta = GeneratorDelta(info["base_fingerprint"], info["rank"], meta=info.get("meta") or {})
    for key, value in tensors.items():
        kind, _, name = key.partition(".")
        if kind == "full":
            delta.full[name] = value.float()
        elif kind == "down":
            delta.low_rank[name] = (value.float(), tensors[f"up.{name}"].float())
        elif kind != "up":
            raise WplusError(f"{path}: unexpected tensor {key} in a delta file")
    return delta
