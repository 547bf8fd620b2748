"""Export a trainer checkpoint's G_ema as the package's default model (fp16 safetensors)."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from ..checkpoints.native import build_generator, save_generator
from ..files import sha256_file
from ..models.registry import DEFAULT_WEIGHTS
from ..models.stylegan2 import Generator, GeneratorConfig, Provenance


def load_g_ema(checkpoint: str | Path) -> tuple[Generator, dict]:
    """A trainer checkpoint's G_ema as a Generator, and the checkpoint's whole state."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    cfg = GeneratorConfig(**json.loads(state["config"])["generator"])
    return build_generator(cfg, state["G_ema"], Provenance(str(checkpoint), "wplus trainer checkpoint")), state


def export_default(checkpoint: str | Path, dest_dir: str | Path) -> Path:
    """Write DEST/default.safetensors (fp16, config + training facts in its metadata) and
    DEST/default.safetensors.sha256, which `load_generator()` checks before loading."""
    G, state = load_g_ema(checkpoint)
    train_cfg = json.loads(state["config"])
    dest = Path(dest_dir) / DEFAULT_WEIGHTS
    dest.parent.mkdir(parents=True, exist_ok=True)
    facts = {"training_step": str(state["step"]), "training_images": str(state["step"] * train_cfg["batch"]),
             "training_config": state["config"]}
    save_generator(G, dest, dtype=torch.float16, extra_metadata=facts)
    Path(str(dest) + ".sha256").write_text(f"{sha256_file(dest)}  {dest.name}\n")
    return dest
