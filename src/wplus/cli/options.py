"""Options shared by several commands, declared once, and their conversion to app options."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..app import EditSources, EmbedOptions, ModelOptions, Workspace
from ..inversion import INITS, LOSS_KINDS, PRECISIONS, PRESETS, SPACES

#: Embedding settings: name -> (flag, argparse keywords). None defaults mean "the preset's".
EMBEDDING_OPTIONS: dict[str, tuple[str, dict]] = {
    "preset": ("--preset", dict(choices=sorted(PRESETS), default="default",
                                help="paper = 5000 Adam steps as in Image2StyleGAN; default = 500 "
                                     "L-BFGS steps; fast = 150 with early stop; nvidia = NVIDIA's projector")),
    "space": ("--space", dict(choices=SPACES, help="latent space (default w+; w+n = W+ and noise maps, I2S++)")),
    "steps": ("--steps", dict(type=int, help="optimisation steps (overrides the preset)")),
    "init": ("--init", dict(choices=INITS, help="start from the mean latent or a random one")),
    "lr": ("--lr", dict(type=float, help="Adam learning rate (paper 0.01); L-BFGS: the first step's size")),
    "loss": ("--loss", dict(choices=LOSS_KINDS, help="auto = paper's MSE+VGG16 if weights exist")),
    "perceptual_resolution": ("--perceptual-resolution", dict(type=int, help="VGG input side (default 256)")),
    "early_stop": ("--early-stop", dict(action="store_true", default=None,
                                        help="stop when the loss stops improving")),
    "seed": ("--seed", dict(type=int, help="seed for random init")),
    "precision": ("--precision", dict(choices=PRECISIONS, help="auto = bf16 autocast for Adam on CUDA, else fp32")),
    "noise_schedule": ("--noise-schedule", dict(choices=("sequential", "joint"),
                                                help="w+n: W+ first, then the noise maps only (default), or both")),
    "noise_split": ("--noise-split", dict(type=float, help="w+n sequential: fraction of the steps on W+ (0.5)")),
}
EDIT_EMBEDDING = ("preset", "space", "steps", "loss")  # what editing inputs that are images use


def add_model_options(p: argparse.ArgumentParser, vgg16: bool = True) -> None:
    """--generator, --delta, --device and (for commands with a perceptual loss) --vgg16."""
    p.add_argument("--generator", default="default", help="'default' or a generator file")
    p.add_argument("--delta", help="a generator delta made by `wplus tune` (applied to --generator)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    if vgg16:
        p.add_argument("--vgg16", help="path to torchvision's vgg16-397923af.pth")


def add_embedding_options(p: argparse.ArgumentParser, names: tuple[str, ...] = tuple(EMBEDDING_OPTIONS)) -> None:
    for name in names:
        flag, kwargs = EMBEDDING_OPTIONS[name]
        p.add_argument(flag, **kwargs)


def add_edit_options(p: argparse.ArgumentParser) -> None:
    """Options of the editing commands: model, embedding of image inputs, the cache."""
    add_model_options(p)
    add_embedding_options(p, EDIT_EMBEDDING)
    p.add_argument("--cache-dir", help="embedding cache (default ~/.cache/wplus/embeddings)")


def model_options(args: argparse.Namespace) -> ModelOptions:
    return ModelOptions(args.generator, args.device, getattr(args, "vgg16", None), args.delta)


def embed_options(args: argparse.Namespace) -> EmbedOptions:
    given = {name: getattr(args, name) for name in EMBEDDING_OPTIONS if hasattr(args, name)}
    return EmbedOptions(**given)


def edit_sources(args: argparse.Namespace) -> EditSources:
    return EditSources(embed_options(args), Path(args.cache_dir) if args.cache_dir else None)


def open_workspace(args: argparse.Namespace) -> Workspace:
    return Workspace.open(model_options(args))
