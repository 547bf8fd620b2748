"""Load generators from files, recognising the format by content, never executing code."""
from __future__ import annotations

import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from ..errors import WplusError
from ..files import sha256_file
from ..models.base import FamilyConfig, GeneratorBase, Provenance
from ..models.registry import random_default_generator, shipped_weights
from . import nvidia_pt, nvidia_pt_v3, nvidia_tf, nvidia_tf_v1, rosinality
from .native import NATIVE_FORMAT, build_generator, is_native, load_native, read_native, save_generator
from .safe_pickle import UnsafePickleError, restricted_load

__all__ = ["load_generator", "save_generator", "read_checkpoint", "UnsafePickleError", "FORMATS"]

_TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
DEFAULT_FORMAT = "embedded default"


@dataclass(frozen=True)
class CheckpointFormat:
    """A foreign file format: `detect(data)` on the safely loaded object, then `convert(data,
    what)` to (config, wplus state_dict)."""

    name: str
    detect: Callable[[Any], bool]
    convert: Callable[[Any, str], tuple[FamilyConfig, dict[str, torch.Tensor]]]


#: Foreign formats, tried in order on the object read from a torch file or NVIDIA pickle.
FORMATS = [
    CheckpointFormat(nvidia_pt_v3.FORMAT, nvidia_pt_v3.is_nvidia_pt_v3, nvidia_pt_v3.convert),
    CheckpointFormat(nvidia_pt.FORMAT, nvidia_pt.is_nvidia_pt, nvidia_pt.convert),
    CheckpointFormat(nvidia_tf_v1.FORMAT, nvidia_tf_v1.is_nvidia_tf_v1, nvidia_tf_v1.convert),
    CheckpointFormat(nvidia_tf.FORMAT, nvidia_tf.is_nvidia_tf, nvidia_tf.convert),
    CheckpointFormat(rosinality.FORMAT, rosinality.is_rosinality, rosinality.convert),
]


def _torch_load(path: Path) -> dict:
    try:
        return rosinality.load_pt(str(path))
    except pickle.UnpicklingError as exc:
        raise UnsafePickleError(f"{path}: torch file refused by weights_only loading "
                                f"({str(exc).splitlines()[0][:160]})") from None
    except Exception as exc:
        raise WplusError(f"{path}: truncated or corrupt torch file ({type(exc).__name__})") from None


def read_checkpoint(path: str | Path) -> tuple[str, FamilyConfig, dict[str, torch.Tensor]]:
    """Recognise a generator file by content; return (format, config, wplus state_dict).

    Never executes code from the file: safetensors, `torch.load(weights_only=True)`, or the
    restricted unpickler for NVIDIA pickles."""
    path = Path(path)
    what = str(path)
    if is_native(path):
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
                         "a pickle); supported: wplus .safetensors, NVIDIA .pkl (StyleGAN2/3 PyTorch, "
                         "StyleGAN/StyleGAN2 TF), rosinality .pt")
    for fmt in FORMATS:
        if fmt.detect(data):
            cfg, sd = fmt.convert(data, what)
            return fmt.name, cfg, sd
    kind = type(data).__name__
    keys = sorted(map(str, data))[:6] if isinstance(data, dict) else []
    raise WplusError(f"{path}: a {kind} {keys if keys else ''} that holds no known StyleGAN "
                     "generator (expected G_ema, g_ema or a TF (G, D, Gs) tuple)")


def _load_default() -> GeneratorBase:
    shipped = shipped_weights()
    if shipped is None:
        return random_default_generator()
    path, expected = shipped
    actual = sha256_file(path)
    if actual != expected:
        raise WplusError(f"{path}: checksum mismatch (sha256 {actual[:12]}…, expected "
                         f"{expected[:12]}…); the file is corrupt: reinstall wplus")
    return load_native(path, Provenance(f"default: {path.name} (sha256 {expected[:12]})", DEFAULT_FORMAT))


def load_generator(spec: str | Path | None = None, device: str | torch.device = "cpu") -> GeneratorBase:
    """Load a generator, recognising the file's format by its content (never running code from it).

    Args:
        spec: `None` or `"default"` for the embedded default model; else a path to a wplus
            `.safetensors`, an NVIDIA `.pkl` (stylegan2-ada-pytorch / stylegan3 StyleGAN2 and
            StyleGAN3, TF StyleGAN (v1) and StyleGAN2) or a rosinality `.pt`.
        device: where the generator goes.

    Returns:
        A generator (StyleGAN, StyleGAN2 or StyleGAN3: same interface) in eval mode with
        gradients disabled, its `provenance` (source, format)
        set; `w_avg` estimated from 10 000 z when the file has none.

    Example:
        >>> G = wplus.load_generator()                  # 64x64 default model
        >>> G.resolution, G.num_ws, G.w_dim
        (64, 10, 256)
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
        G = build_generator(cfg, sd, Provenance(str(path), fmt))
        if estimate_w_avg:
            G.compute_w_avg()
    return G.to(device)
