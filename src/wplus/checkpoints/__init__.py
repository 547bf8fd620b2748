"""Load generators from files, recognising the format by content, never executing code."""
from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch

from ..errors import WplusError
from ..models.registry import random_default_generator, sha256_file, shipped_weights
from ..models.stylegan2 import Generator, GeneratorConfig
from . import nvidia_pt, nvidia_tf, rosinality
from .native import build_generator, is_native, load_native, save_generator
from .safe_pickle import UnsafePickleError, restricted_load

__all__ = ["load_generator", "save_generator", "read_checkpoint", "UnsafePickleError"]

NATIVE_FORMAT = "wplus native .safetensors"
_TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def _torch_load(path: Path) -> dict:
    try:
        return rosinality.load_pt(str(path))
    except pickle.UnpicklingError as exc:
        raise UnsafePickleError(f"{path}: torch file refused by weights_only loading "
                                f"({str(exc).splitlines()[0][:160]})") from None
    except Exception as exc:
        raise WplusError(f"{path}: truncated or corrupt torch file ({type(exc).__name__})") from None


def read_checkpoint(path: str | Path) -> tuple[str, GeneratorConfig, dict[str, torch.Tensor]]:
    """Recognise a generator file by content; return (format, config, wplus state_dict).

    Never executes code from the file: safetensors, `torch.load(weights_only=True)`, or the
    restricted unpickler for NVIDIA pickles."""
    path = Path(path)
    what = str(path)
    if is_native(path):
        from .native import read_native
        cfg, sd, _ = read_native(path)
        return NATIVE_FORMAT, cfg, sd
    with open(path, "rb") as f:
        head = f.read(2)
    if zipfile.is_zipfile(path):
        data = _torch_load(path)
    elif head[:1] == b"\x80":
        data = restricted_load(what)
        if data == _TORCH_LEGACY_MAGIC:  # pre-1.6 torch.save file
            data = _torch_load(path)
    else:
        raise WplusError(f"{path}: unrecognised generator format (not safetensors, a torch file or "
                         "a pickle); supported: wplus .safetensors, NVIDIA .pkl (PyTorch or TF "
                         "StyleGAN2), rosinality .pt")
    for module in (nvidia_pt, nvidia_tf, rosinality):
        detect = getattr(module, f"is_{module.__name__.rsplit('.', 1)[-1]}")
        if detect(data):
            cfg, sd = module.convert(data, what)
            return module.FORMAT, cfg, sd
    kind = type(data).__name__
    keys = sorted(map(str, data))[:6] if isinstance(data, dict) else []
    raise WplusError(f"{path}: a {kind} {keys if keys else ''} that holds no known StyleGAN2 "
                     "generator (expected G_ema, g_ema or a TF (G, D, Gs) tuple)")


def _load_default() -> Generator:
    shipped = shipped_weights()
    if shipped is None:
        G = random_default_generator()
        G.source_format = "embedded default"
        return G
    path, expected = shipped
    actual = sha256_file(path)
    if actual != expected:
        raise WplusError(f"{path}: checksum mismatch (sha256 {actual[:12]}…, expected "
                         f"{expected[:12]}…); the file is corrupt: reinstall wplus")
    G = load_native(path)
    G.source = f"default: {path.name} (sha256 {expected[:12]})"
    G.source_format = "embedded default"
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
        fmt, cfg, sd = read_checkpoint(path)
        estimate_w_avg = "mapping.w_avg" not in sd
        if estimate_w_avg:
            sd["mapping.w_avg"] = torch.zeros(cfg.w_dim)
        G = build_generator(cfg, sd, str(path))
        if estimate_w_avg:
            G.compute_w_avg()
        G.source = str(path)
        G.source_format = fmt
    return G.to(device)
