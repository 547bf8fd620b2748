"""What every study shares: inputs, metrics, and writing a table (Markdown + CSV) and a figure."""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import torch

from ..inversion import EmbedConfig, EmbedResult, embed
from ..io.images import image_grid, load_image, save_image
from ..losses import EmbeddingLoss, mse, psnr
from ..losses.lpips import LPIPS
from ..losses.ssim import ms_ssim_per_image
from ..models.stylegan2 import Generator
from ..seeds import z_block

FACE_SAMPLES = ("astronaut.png",)
NON_FACE_SAMPLES = ("coffee.png", "chelsea.png", "rocket.png")
METRICS = ["mse", "psnr", "ms_ssim", "perceptual", "lpips"]


@dataclass
class Context:
    """Inputs of a study run."""

    G: Generator
    images: torch.Tensor  # [N, 3, R, R] targets
    names: list[str]
    config: EmbedConfig
    loss: EmbeddingLoss
    perceptual_loss: EmbeddingLoss | None  # i2s-capable loss (VGG16), None without weights
    lpips: LPIPS | None  # LPIPS-VGG metric, None without VGG16 weights
    out: Path
    groups: dict[str, list[int]] = field(default_factory=dict)  # table rows per group of targets

    def embed(self, images: torch.Tensor | None = None, G: Generator | None = None,
              loss: EmbeddingLoss | None = None, masks: torch.Tensor | None = None, **overrides) -> EmbedResult:
        return embed(G or self.G, self.images if images is None else images,
                     replace(self.config, **overrides), loss=loss or self.loss, masks=masks)


@dataclass
class StudyResult:
    name: str
    columns: list[str]
    rows: list[dict] = field(default_factory=list)
    figure: torch.Tensor | None = None  # one image [3, H, W]
    note: str = ""


def bundled_images(names: tuple[str, ...], resolution: int) -> tuple[torch.Tensor, list[str]]:
    root = resources.files("wplus") / "data"
    tensors = [load_image(Path(str(root / n)), resolution).tensor for n in names]
    return torch.cat(tensors), [Path(n).stem for n in names]


def generator_samples(G: Generator, n: int, seed: int = 123) -> torch.Tensor:
    z = z_block(n, G.z_dim, seed, G.w_avg.device)
    with torch.no_grad():
        return G.synthesis(G.mapping(z)).clamp(-1, 1)


def metrics(images: torch.Tensor, targets: torch.Tensor, ctx: Context) -> dict[str, float]:
    """Mean over images of MSE, PSNR, MS-SSIM and, if VGG16 weights exist, the I2S perceptual
    distance and LPIPS (NaN without them)."""
    x = images.clamp(-1, 1)
    out = {"mse": mse(x, targets).mean().item(), "psnr": psnr(x, targets).mean().item(),
           "ms_ssim": ms_ssim_per_image(x, targets).mean().item()}
    p = ctx.perceptual_loss.perceptual if ctx.perceptual_loss is not None else None
    with torch.no_grad():
        out["perceptual"] = p(x, targets).mean().item() if p is not None else float("nan")
        out["lpips"] = ctx.lpips(x, targets).mean().item() if ctx.lpips is not None else float("nan")
    return out


def grouped_metrics(images: torch.Tensor, targets: torch.Tensor, ctx: Context) -> list[dict]:
    """`metrics` per group of targets (`ctx.groups`, or all of them), each with a 'targets' key."""
    groups = ctx.groups or {"all": list(range(len(targets)))}
    return [{"targets": name, **metrics(images[idx], targets[idx], ctx)} for name, idx in groups.items()]


def write_study(result: StudyResult, out: Path) -> list[Path]:
    """NAME.csv, NAME.md (table + note) and NAME.png (figure) in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{result.name}.csv", out / f"{result.name}.md"]
    with open(paths[0], "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=result.columns)
        writer.writeheader()
        writer.writerows(result.rows)
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)
    unmeasured = [c for c in result.columns
                  if result.rows and all(isinstance(r.get(c), float) and math.isnan(r[c]) for r in result.rows)]
    shown = [c for c in result.columns if c not in unmeasured]
    lines = [f"## {result.name}", "", "| " + " | ".join(shown) + " |", "|" + "---|" * len(shown)]
    lines += ["| " + " | ".join(fmt(row.get(c, "")) for c in shown) + " |" for row in result.rows]
    if unmeasured:
        lines += ["", f"Not measured in this run (they need VGG16 weights: `--vgg16`): {', '.join(unmeasured)}."]
    if result.figure is not None:
        paths.append(save_image(result.figure, out / f"{result.name}.png"))
        lines += ["", f"![{result.name}]({result.name}.png)"]
    if result.note:
        lines += ["", result.note]
    paths[1].write_text("\n".join(lines) + "\n")
    return paths


def rows_figure(rows: list[torch.Tensor]) -> torch.Tensor:
    """Stack equally long rows of images [K, 3, R, R] into one grid image."""
    return image_grid(torch.cat(rows), columns=len(rows[0]))
