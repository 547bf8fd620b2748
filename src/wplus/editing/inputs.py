"""Inputs of the editing commands: a latent file, or an image embedded first (cached).

A W+n code (space w+n, or a file with `noise_*` arrays) comes with its noise maps."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import WplusError
from ..inversion import EmbedConfig, embed
from ..inversion.noise import named_noise, noise_from_named
from ..io.images import load_image
from ..io.latents import fit_latents, load_latents, load_noise_maps, save_latents
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


@dataclass
class Latent:
    """One editing input's code, and its noise maps when it has some (W+n)."""

    w: torch.Tensor  # [1, num_ws, w_dim]
    noise: list[torch.Tensor] | None = None  # [1, 1, r, r] per noise layer, on G's device


def code_for(G: Generator, path: str | Path, config: EmbedConfig, loss: EmbeddingLoss | None,
             cache_dir: Path | None = None, fingerprint: str | None = None) -> torch.Tensor:
    """W+ code [1, num_ws, w_dim] for `path`: a latent file (its first code, or code K with
    `file.npz:K`), or an image, embedded (cached by image bytes, generator fingerprint and
    settings). `fingerprint`: `G.fingerprint()` when the caller has it already."""
    return latent_for(G, path, config, loss, cache_dir, fingerprint).w


def latent_for(G: Generator, path: str | Path, config: EmbedConfig, loss: EmbeddingLoss | None,
               cache_dir: Path | None = None, fingerprint: str | None = None) -> Latent:
    """As `code_for`, with the noise maps of a W+n file (or of an image embedded in w+n)."""
    path, index = split_selector(path)
    if not path.is_file():
        raise WplusError(f"{path}: no such file")
    if path.suffix.lower() in LATENT_SUFFIXES:
        return _from_file(G, path, index)
    if index:
        raise WplusError(f"{path}: ':{index}' selects a code of a latent file (.npz, .pt), not of an image")
    fingerprint = fingerprint or G.fingerprint()
    key = hashlib.sha256(path.read_bytes() + fingerprint.encode()
                         + json.dumps(config.to_dict(), sort_keys=True).encode() + loss.name.encode()).hexdigest()[:24]
    cache = (cache_dir or default_cache_dir()) / f"{key}.npz"
    if cache.is_file():
        return _from_file(G, cache, 0)
    image = load_image(path, G.resolution)
    result = embed(G, image.tensor, config, loss=loss)
    cache.parent.mkdir(parents=True, exist_ok=True)
    maps = named_noise(G, result.noise) if result.noise is not None else {}
    save_latents(cache, result.latents, {"source": str(path), "generator_sha": fingerprint}, **maps)
    return Latent(result.latents, result.noise)


def _from_file(G: Generator, path: Path, index: int) -> Latent:
    w, _ = load_latents(path)
    if not -len(w) <= index < len(w):
        raise WplusError(f"{path}: has {len(w)} code(s); choose an index 0-{len(w) - 1}")
    index %= len(w)
    code = fit_latents(w[index:index + 1], G.num_ws, G.w_dim, str(path)).to(G.w_avg.device)
    return Latent(code, noise_from_named(G, load_noise_maps(path), index, str(path)))
