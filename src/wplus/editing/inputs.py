"""Inputs of the editing commands: a latent file, or an image embedded first (cached)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from ..errors import WplusError
from ..inversion import EmbedConfig, embed
from ..io.images import load_image
from ..io.latents import fit_latents, load_latents, save_latents
from ..losses import EmbeddingLoss
from ..models.stylegan2 import Generator

LATENT_SUFFIXES = (".npz", ".pt")


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "wplus" / "embeddings"


def split_selector(spec: str | Path) -> tuple[Path, int]:
    """'codes.npz:3' -> (codes.npz, 3); anything else -> (path, 0)."""
    text = str(spec)
    head, sep, tail = text.rpartition(":")
    if sep and tail.lstrip("-").isdigit() and not Path(text).exists() and Path(head).suffix.lower() in LATENT_SUFFIXES:
        return Path(head), int(tail)
    return Path(text), 0


def code_for(G: Generator, path: str | Path, config: EmbedConfig, loss: EmbeddingLoss | None,
             cache_dir: Path | None = None, fingerprint: str | None = None) -> torch.Tensor:
    """W+ code [1, num_ws, w_dim] for `path`: a latent file (its first code, or code K with
    `file.npz:K`), or an image, embedded (cached by image bytes, generator fingerprint and
    settings). `fingerprint`: `G.fingerprint()` when the caller has it already."""
    path, index = split_selector(path)
    if not path.is_file():
        raise WplusError(f"{path}: no such file")
    if path.suffix.lower() in LATENT_SUFFIXES:
        w, _ = load_latents(path)
        if not -len(w) <= index < len(w):
            raise WplusError(f"{path}: has {len(w)} code(s); choose an index 0-{len(w) - 1}")
        return fit_latents(w[index:index + 1], G.num_ws, G.w_dim, str(path)).to(G.w_avg.device)
    if index:
        raise WplusError(f"{path}: ':{index}' selects a code of a latent file (.npz, .pt), not of an image")
    fingerprint = fingerprint or G.fingerprint()
    key = hashlib.sha256(path.read_bytes() + fingerprint.encode()
                         + json.dumps(config.to_dict(), sort_keys=True).encode() + loss.name.encode()).hexdigest()[:24]
    cache = (cache_dir or default_cache_dir()) / f"{key}.npz"
    if cache.is_file():
        return load_latents(cache)[0].to(G.w_avg.device)
    image = load_image(path, G.resolution)
    result = embed(G, image.tensor, config, loss=loss)
    cache.parent.mkdir(parents=True, exist_ok=True)
    save_latents(cache, result.latents, {"source": str(path), "generator_sha": fingerprint})
    return result.latents
