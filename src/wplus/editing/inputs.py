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


def code_for(G: Generator, path: str | Path, config: EmbedConfig, loss: EmbeddingLoss,
             cache_dir: Path | None = None) -> torch.Tensor:
    """W+ code [1, num_ws, w_dim] for `path`: read from a latent file, or embed the image
    (cached by image bytes, generator fingerprint and settings)."""
    path = Path(path)
    if not path.is_file():
        raise WplusError(f"{path}: no such file")
    if path.suffix.lower() in LATENT_SUFFIXES:
        w, _ = load_latents(path)
        return fit_latents(w[:1], G.num_ws, G.w_dim, str(path)).to(G.w_avg.device)
    key = hashlib.sha256(path.read_bytes() + G.fingerprint().encode()
                         + json.dumps(config.to_dict(), sort_keys=True).encode() + loss.name.encode()).hexdigest()[:24]
    cache = (cache_dir or default_cache_dir()) / f"{key}.npz"
    if cache.is_file():
        return load_latents(cache)[0].to(G.w_avg.device)
    image = load_image(path, G.resolution)
    result = embed(G, image.tensor, config, loss=loss)
    cache.parent.mkdir(parents=True, exist_ok=True)
    save_latents(cache, result.latents, {"source": str(path), "generator_sha": G.fingerprint()})
    return result.latents
