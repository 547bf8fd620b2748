"""Task: rerun the paper's studies on a generator and write their tables and figures."""
from __future__ import annotations

from pathlib import Path

import torch

from ..errors import WplusError
from ..experiments import EXTRA_STUDIES, STUDIES
from ..experiments.common import FACE_SAMPLES, Context, bundled_images, generator_samples, write_study
from ..io.images import find_images
from ..losses import build_loss
from ..losses.lpips import LPIPS, load_heads
from ..models.vgg16 import VGGWeightsNotFound
from .events import EventSink, StudyStarted, ignore
from .inputs import load_inputs
from .workspace import EmbedOptions, Workspace

STUDY_NAMES = [*STUDIES, *EXTRA_STUDIES, "all"]


def _targets(ws: Workspace, images: str | Path | None) -> tuple[torch.Tensor, list[str], dict[str, list[int]]]:
    """The images studied, their names and table groups: a folder's images (one group), or
    three of the generator's own samples (known ground truth) and the bundled photo."""
    if images:
        loaded, _ = load_inputs(find_images([images]), ws.G.resolution)
        if not loaded:
            raise WplusError(f"{images}: no readable images")
        return torch.cat([i.tensor for i in loaded]).to(ws.device), [i.name for i in loaded], {}
    real, real_names = bundled_images(FACE_SAMPLES, ws.G.resolution)
    targets = torch.cat([generator_samples(ws.G, 3), real.to(ws.device)])
    groups = {"3 model samples": [0, 1, 2], f"photo ({real_names[0]})": [3]}
    return targets, ["sample0", "sample1", "sample2", *real_names], groups


def run_experiments(ws: Workspace, name: str, out: Path, options: EmbedOptions = EmbedOptions(),
                    images: str | Path | None = None, emit: EventSink = ignore) -> list[Path]:
    """Run study `name` (or 'all'); returns the files written (per study NAME.csv, NAME.md,
    NAME.png; with 'all' also experiments.md)."""
    if name not in STUDY_NAMES:
        raise WplusError(f"unknown study {name!r}; choose one of {', '.join(STUDY_NAMES)}")
    config, loss = ws.embedding(options, emit)
    try:
        perceptual = build_loss("i2s", vgg16=ws.vgg16).to(ws.device)
        lpips = LPIPS(perceptual.perceptual.vgg, load_heads()).to(ws.device)  # one VGG16 serves both
    except VGGWeightsNotFound:
        perceptual = lpips = None
    targets, names, groups = _targets(ws, images)
    ctx = Context(ws.G, targets, names, config, loss, perceptual, lpips, out, groups)
    written, sections = [], []
    for study in (list(STUDIES) if name == "all" else [name]):
        emit(StudyStarted(study, config.steps))
        paths = write_study({**STUDIES, **EXTRA_STUDIES}[study](ctx), out)
        sections.append(paths[1].read_text())
        written += paths
    if name == "all":
        header = (f"# wplus experiments\n\ngenerator: {ws.G.source}; images: {', '.join(names)}; "
                  f"{config.steps} Adam steps, lr {config.lr}, loss {loss.name}\n\n")
        (out / "experiments.md").write_text(header + "\n".join(sections))
        written.append(out / "experiments.md")
    return written
