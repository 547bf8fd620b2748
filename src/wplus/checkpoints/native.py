"""wplus native format: `.safetensors` with the generator config as JSON in its metadata
(tagged with its family: StyleGAN, StyleGAN2 (untagged) or StyleGAN3)."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from ..errors import WplusError
from ..files import write_atomically
from ..models.base import FamilyConfig, GeneratorBase, Provenance
from ..models.families import config_from_json, make_generator

CONFIG_KEY = "wplus_config"
NATIVE_FORMAT = "wplus native .safetensors"


def is_native(path: Path) -> bool:
    """True when `path` is a safetensors file carrying a wplus generator config."""
    try:
        with safe_open(str(path), framework="pt") as f:
            return CONFIG_KEY in (f.metadata() or {})
    except Exception:
        return False


def save_generator(G: GeneratorBase, path: str | Path, *, dtype: torch.dtype | None = None,
                   extra_metadata: dict[str, str] | None = None) -> Path:
    """Write `G`'s parameters and buffers (optionally cast, e.g. to fp16) with its config."""
    path = Path(path)
    tensors = {k: (v.to(dtype) if dtype is not None and v.is_floating_point() else v)
               .detach().cpu().contiguous() for k, v in G.state_dict().items()}
    metadata = {CONFIG_KEY: G.config.to_json(), **(extra_metadata or {})}
    return write_atomically(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))


def read_native(path: str | Path) -> tuple[FamilyConfig, dict[str, torch.Tensor], dict[str, str]]:
    """Return (config, state_dict, metadata) of a native file; one-line errors when it is broken."""
    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = dict(f.metadata() or {})
        tensors = load_file(str(path))
    except (SafetensorError, OSError, RuntimeError) as exc:
        raise WplusError(f"{path}: not a readable safetensors file ({exc}); "
                         "re-download or re-convert it") from None
    if CONFIG_KEY not in metadata:
        raise WplusError(f"{path}: safetensors file without '{CONFIG_KEY}' metadata; "
                         "it was not written by wplus (convert it with `wplus convert`)")
    try:
        cfg = config_from_json(metadata[CONFIG_KEY])
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise WplusError(f"{path}: invalid generator config in metadata ({exc})") from None
    return cfg, tensors, metadata


def build_generator(cfg: FamilyConfig, state_dict: dict[str, torch.Tensor],
                    provenance: Provenance) -> GeneratorBase:
    """Instantiate a generator and fill every parameter and buffer exactly (strict)."""
    source = provenance.source
    G = make_generator(cfg, provenance)
    expected = G.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    if missing or unexpected:
        raise WplusError(f"{source}: weights do not match the generator config "
                         f"(missing {missing[:3]}{'...' if len(missing) > 3 else ''}, "
                         f"unexpected {unexpected[:3]}{'...' if len(unexpected) > 3 else ''})")
    for key, value in state_dict.items():
        if tuple(value.shape) != tuple(expected[key].shape):
            raise WplusError(f"{source}: tensor {key} has shape {list(value.shape)}, "
                             f"expected {list(expected[key].shape)}")
    G.load_state_dict({k: v.to(expected[k].dtype) for k, v in state_dict.items()}, strict=True)
    return G.eval().requires_grad_(False)


def load_native(path: str | Path, provenance: Provenance | None = None) -> GeneratorBase:
    cfg, tensors, _ = read_native(path)
    return build_generator(cfg, tensors, provenance or Provenance(str(path), NATIVE_FORMAT))
