"""Tasks on generator files: describe one, convert one to the native format."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..checkpoints import load_generator, save_generator
from ..errors import WplusError
from ..files import sha256_file
from ..io.deltas import load_delta
from ..models.base import GeneratorBase as Generator


@dataclass
class GeneratorInfo:
    source: str
    format: str
    file_sha256: str | None  # of the file given, None for the embedded default
    resolution: int
    num_ws: int
    w_dim: int
    z_dim: int
    channel_base: int
    channel_max: int
    mapping_layers: int
    parameters: int
    fingerprint: str
    family: str = "stylegan2"  # stylegan1 | stylegan2 | stylegan3
    has_noise: bool = True  # per-layer noise inputs (StyleGAN3 has none)


def describe(spec: str = "default", G: Generator | None = None) -> GeneratorInfo:
    """What `wplus info` shows about the generator `spec` ('default' or a file)."""
    G = G or load_generator(spec)
    cfg = G.config
    return GeneratorInfo(G.source, G.source_format, sha256_file(spec) if Path(spec).is_file() else None,
                         cfg.resolution, cfg.num_ws, cfg.w_dim, cfg.z_dim, cfg.channel_base, cfg.channel_max,
                         cfg.mapping_layers, sum(p.numel() for p in G.parameters()), G.fingerprint(),
                         G.family, G.has_noise)


@dataclass
class DeltaInfo:
    base_fingerprint: str
    rank: int | None  # None: full updates
    low_rank: int  # weights with a low-rank update
    full: int  # tensors with a full update
    values: int
    file_bytes: int
    meta: dict


def describe_delta(path: str | Path) -> DeltaInfo:
    """What `wplus info` shows about a delta file made by `wplus tune`."""
    delta = load_delta(path)
    return DeltaInfo(delta.base_fingerprint, delta.rank, len(delta.low_rank), len(delta.full), delta.num_values(),
                     Path(path).stat().st_size, delta.meta)


def convert(source: str | Path, dest: str | Path, delta: str | Path | None = None) -> tuple[Generator, Path]:
    """Write the generator file `source` (any supported format) as native `.safetensors`;
    with `delta` (made by `wplus tune` on that generator), the tuned generator."""
    dest = Path(dest)
    if dest.suffix != ".safetensors":
        raise WplusError(f"{dest}: the output must end in .safetensors")
    G = load_generator(source)
    source_file = Path(source).name if Path(source).is_file() else str(source)
    extra = {"source_format": G.source_format, "source_file": source_file,
             "source_sha256": sha256_file(source) if Path(source).is_file() else ""}
    if delta is not None:
        G = load_delta(delta).apply(G, label=Path(delta).name, what=str(delta))
        extra.update(delta_file=Path(delta).name, delta_sha256=sha256_file(delta))
    save_generator(G, dest, extra_metadata=extra)
    return G, dest
