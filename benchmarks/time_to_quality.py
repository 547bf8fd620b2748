"""Time to quality: PSNR against wall time for the presets paper, default, fast and nvidia.

Each preset embeds the same batch of targets in one run (one process, presets one after
another). The PSNR at a time is the mean over images of the PSNR of each image's best-so-far
render (lowest loss) at that time. Two clocks:
  wall     - seconds since `embed` was called, as measured in the run (setup included);
  modelled - setup + steps x the preset's seconds per step, the minimum over interleaved
             timing rounds; on a shared machine this is the fairer comparison, as the other
             processes slow the long runs more than the short ones.
Models and targets:
  default - the embedded 64² model; held-out samples of its DCGAN teacher (seed 6, as
            scripts/default_model_report.py) and the bundled astronaut photo, FFHQ-aligned;
  f256    - a random-weight config-f generator at 256²; its own sample as the target, every
            preset's steps (and patience) scaled by --f256-scale, so those curves are short;
            `default-long` is the default preset with --f256-long times those steps.
Without VGG16 weights every preset's 'auto' loss is MSE + MS-SSIM (a warning says so); with
them (--vgg16 or the hub cache) the LPIPS of the final results is added to the table.

    python benchmarks/time_to_quality.py [--quick] [--out docs] [--f256-scale 0.05] [--skip-f256]

Writes OUT/img/time-to-quality.png and OUT/img/time-to-quality.csv and prints Markdown tables.
"""
from __future__ import annotations

import argparse
import csv
import math
import time
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import torch
from PIL import Image, ImageDraw

import wplus
from wplus.app.inputs import aligned_faces
from wplus.inversion import PRESETS, EmbedConfig, embed
from wplus.losses import EmbeddingLoss, build_loss
from wplus.losses.lpips import build_lpips
from wplus.models.stylegan2 import Generator, GeneratorConfig
from wplus.models.vgg16 import VGGWeightsNotFound

PRESET_NAMES = ("paper", "default", "fast", "nvidia")
TEACHER = Path(__file__).resolve().parents[1] / ".." / "shared" / "weights" / "dcgan_faces" / "weights.tar"
COLOURS = {"paper": (31, 119, 180), "default": (214, 39, 40), "fast": (44, 160, 44), "nvidia": (148, 103, 189),
           "default-long": (255, 127, 14)}


@dataclass
class Curve:
    """One preset's run: per step, the wall clock and the mean best-so-far PSNR."""

    preset: str
    model: str
    wall: list[float]  # seconds since embed was called, at the end of each step's forward
    psnr: list[float]  # mean over images of the best-so-far render's PSNR after each step
    setup: float = 0.0  # seconds before the first step
    step_s: float = float("nan")  # seconds per step, from the timing rounds
    lpips: float = float("nan")

    def modelled(self) -> list[float]:
        return [self.setup + (k + 1) * self.step_s for k in range(len(self.psnr))]

    def time_to(self, target: float, clock: list[float]) -> float:
        """First time the curve reaches `target` dB (nan when it never does)."""
        return next((t for t, p in zip(clock, self.psnr) if p >= target - 1e-9), float("nan"))


def best_so_far_psnr(history: dict[str, list[list[float]]]) -> list[float]:
    """Mean over images of the PSNR at each image's lowest loss so far, per step."""
    loss, psnr = torch.tensor(history["loss"]), torch.tensor(history["psnr"])
    steps = torch.arange(len(loss))[:, None].expand_as(loss)
    best = torch.where(loss == loss.cummin(0).values, steps, torch.zeros_like(steps)).cummax(0).values
    return psnr.gather(0, best).mean(1).tolist()


def default_targets(G: Generator, n: int) -> tuple[torch.Tensor, str]:
    photo = aligned_faces(Path(str(resources.files("wplus") / "data" / "astronaut.png")), G.resolution, True)[0]
    if not TEACHER.exists():
        print(f"note: {TEACHER} not found: using the generator's own samples instead of teacher faces")
        z = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(6))
        with torch.no_grad():
            faces = G.synthesis(G.mapping(z)).clamp(-1, 1)
        return torch.cat([faces, photo.tensor]), f"{n} generator samples + astronaut"
    from wplus.training.dcgan import NZ, load_dcgan_teacher
    from wplus.training.report import sample
    faces = sample(load_dcgan_teacher(TEACHER), NZ, n, 6)
    return torch.cat([faces, photo.tensor]), f"{n} held-out teacher faces + astronaut"


def scaled(config: EmbedConfig, scale: float) -> EmbedConfig:
    return replace(config, steps=max(2, round(config.steps * scale)), patience=max(2, round(config.patience * scale)))


def timed_embed(G: Generator, targets: torch.Tensor, config: EmbedConfig, **kwargs) -> tuple:
    """`embed` with the seconds since the call recorded after each step: (result, stamps)."""
    stamps: list[float] = []
    start = time.perf_counter()
    result = embed(G, targets, config, callbacks=[lambda s: stamps.append(time.perf_counter() - start)], **kwargs)
    return result, stamps


def run_preset(G: Generator, targets: torch.Tensor, name: str, config: EmbedConfig, model: str,
               loss: EmbeddingLoss, lpips) -> Curve:
    result, stamps = timed_embed(G, targets, config, loss=loss)
    curve = Curve(name, model, stamps, best_so_far_psnr(result.history))
    if lpips is not None:
        with torch.no_grad():
            curve.lpips = lpips(result.images.clamp(-1, 1), targets).mean().item()
    print(f"  {model} {name}: {result.steps} steps, {stamps[-1]:.1f} s, {curve.psnr[-1]:.2f} dB "
          f"({loss.name}{'; ' + result.warnings[0].split(' (')[0] if result.warnings else ''})", flush=True)
    return curve


def time_steps(G: Generator, targets: torch.Tensor, configs: dict[str, EmbedConfig],
               losses: dict[str, EmbeddingLoss], rounds: int, steps: int) -> dict[str, tuple[float, float]]:
    """Per preset: (setup seconds, seconds per step), each the minimum over interleaved rounds."""
    best: dict[str, tuple[float, float]] = {}
    for _ in range(rounds):
        for name, config in configs.items():
            _, stamps = timed_embed(G, targets, config, loss=losses[name], steps=steps, early_stop=False)
            step_s = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
            setup = max(0.0, stamps[0] - step_s)
            old = best.get(name, (math.inf, math.inf))
            best[name] = (min(old[0], setup), min(old[1], step_s))
    return best


def ratios(curves: dict[str, Curve], clock: str, runner: str = "default") -> dict[str, float]:
    """`runner`'s time to paper's and nvidia's final PSNR, over their own total times."""
    times = {name: (c.modelled() if clock == "modelled" else c.wall) for name, c in curves.items()}
    out = {}
    for peer in ("paper", "nvidia"):
        if peer in curves and runner in curves:
            reach = curves[runner].time_to(curves[peer].psnr[-1], times[runner])
            out[peer] = reach / times[peer][-1]
    return out


def measure(G: Generator, targets: torch.Tensor, model: str, scale: float, args, lpips,
            long: float = 1.0) -> dict[str, Curve]:
    """Every preset's curve and step time; with `long` > 1 also `default-long`, the default
    preset with `long` times its (scaled) steps."""
    configs = {name: scaled(PRESETS[name], scale) if scale != 1 else PRESETS[name] for name in args.presets}
    if long > 1 and "default" in configs:
        configs["default-long"] = scaled(PRESETS["default"], scale * long)
    losses = {name: build_loss(args.loss or c.loss, perceptual_resolution=c.perceptual_resolution).to(G.w_avg.device)
              for name, c in configs.items()}
    curves = {name: run_preset(G, targets, name, c, model, losses[name], lpips) for name, c in configs.items()}
    for name, (setup, step_s) in time_steps(G, targets, configs, losses, args.rounds, args.timing_steps).items():
        curves[name].setup, curves[name].step_s = setup, step_s
    return curves


def print_tables(all_curves: dict[str, dict[str, Curve]], notes: dict[str, str]) -> None:
    print("\n| model | targets | preset | steps run | s / step | final PSNR (dB) | LPIPS | wall (s) | modelled (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for model, curves in all_curves.items():
        for c in curves.values():
            lp = "-" if math.isnan(c.lpips) else f"{c.lpips:.3f}"
            print(f"| {model} | {notes[model]} | {c.preset} | {len(c.psnr)} | {c.step_s:.4f} | {c.psnr[-1]:.2f} | "
                  f"{lp} | {c.wall[-1]:.1f} | {c.modelled()[-1]:.1f} |")
    print("\n| model | run reaches | PSNR (dB) | after (modelled s) | share of the peer's time, modelled | "
          "same, wall |")
    print("|---|---|---|---|---|---|")
    for model, curves in all_curves.items():
        for runner in [name for name in curves if name.startswith("default")]:
            modelled, wall = ratios(curves, "modelled", runner), ratios(curves, "wall", runner)
            for peer in modelled:
                target = curves[peer].psnr[-1]
                reach = curves[runner].time_to(target, curves[runner].modelled())
                cells = ("not reached", "-", "-") if math.isnan(reach) else (
                    f"{reach:.1f}", f"{modelled[peer]:.1%}", f"{wall[peer]:.1%}")
                print(f"| {model} | {runner}: {peer}'s final | {target:.2f} | {' | '.join(cells)} |")


def write_csv(all_curves: dict[str, dict[str, Curve]], path: Path) -> None:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["model", "preset", "step", "wall_s", "modelled_s", "psnr_db"])
        for curves in all_curves.values():
            for c in curves.values():
                for k, (w, m, p) in enumerate(zip(c.wall, c.modelled(), c.psnr)):
                    out.writerow([c.model, c.preset, k, f"{w:.4f}", f"{m:.4f}", f"{p:.4f}"])


def plot(all_curves: dict[str, dict[str, Curve]], path: Path, size: tuple[int, int] = (560, 380)) -> None:
    """One panel per model: PSNR against modelled seconds (log scale), drawn with PIL."""
    panels = [draw_panel(model, curves, size) for model, curves in all_curves.items()]
    sheet = Image.new("RGB", (size[0] * len(panels), size[1]), "white")
    for i, panel in enumerate(panels):
        sheet.paste(panel, (i * size[0], 0))
    sheet.save(path)


def draw_panel(model: str, curves: dict[str, Curve], size: tuple[int, int]) -> Image.Image:
    w, h = size
    left, right, top, bottom = 52, 12, 28, 40
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    times = [t for c in curves.values() for t in c.modelled()]
    psnrs = [p for c in curves.values() for p in c.psnr]
    t0, t1 = math.log10(max(min(times), 1e-3)), math.log10(max(times))
    p0, p1 = math.floor(min(psnrs)), math.ceil(max(psnrs))
    x = lambda t: left + (math.log10(max(t, 1e-3)) - t0) / max(t1 - t0, 1e-9) * (w - left - right)  # noqa: E731
    y = lambda p: top + (p1 - p) / max(p1 - p0, 1e-9) * (h - top - bottom)  # noqa: E731
    d.rectangle([left, top, w - right, h - bottom], outline="black")
    for e in range(math.ceil(t0), math.floor(t1) + 1):
        d.line([x(10 ** e), h - bottom, x(10 ** e), h - bottom + 4], fill="black")
        d.text((x(10 ** e) - 10, h - bottom + 6), f"1e{e}", fill="black")
    for p in range(p0, p1 + 1, max(1, (p1 - p0) // 6)):
        d.line([left - 4, y(p), left, y(p)], fill="black")
        d.text((8, y(p) - 6), f"{p} dB", fill="black")
    d.text((left, 8), f"{model}: best-so-far PSNR vs modelled seconds (log)", fill="black")
    for k, c in enumerate(curves.values()):
        colour = COLOURS.get(c.preset, (0, 0, 0))
        d.line([(x(t), y(p)) for t, p in zip(c.modelled(), c.psnr)], fill=colour, width=2)
        d.text((w - right - 90, h - bottom - 16 * (len(curves) - k)), c.preset, fill=colour)
    return img


def lpips_metric():
    try:
        return build_lpips()
    except VGGWeightsNotFound:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: a few steps per preset")
    parser.add_argument("--presets", type=lambda s: s.split(","), default=list(PRESET_NAMES))
    parser.add_argument("--faces", type=int, default=4, help="held-out teacher faces (plus the photo)")
    parser.add_argument("--loss", help="loss for every preset (default: each preset's own)")
    parser.add_argument("--f256-scale", type=float, default=0.05, help="share of each preset's steps at 256²")
    parser.add_argument("--skip-f256", action="store_true")
    parser.add_argument("--f256-long", type=float, default=4.0,
                        help="at 256² also run the default preset with this many times its scaled steps")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds")
    parser.add_argument("--timing-steps", type=int, default=12)
    parser.add_argument("--out", default="docs")
    args = parser.parse_args()
    scale = 0.01 if args.quick else 1.0
    if args.quick:
        args.faces, args.rounds, args.timing_steps, args.f256_scale = 1, 1, 3, 0.004
    torch.manual_seed(0)
    lpips = lpips_metric()
    all_curves, notes = {}, {}
    G = wplus.load_generator()
    targets, notes["default"] = default_targets(G, args.faces)
    print(f"default model, {notes['default']}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    all_curves["default"] = measure(G, targets, "default", scale, args, lpips)
    if not args.skip_f256:
        f256 = Generator(GeneratorConfig(resolution=256)).eval().requires_grad_(False)
        f256.compute_w_avg(n=1000)
        with torch.no_grad():
            own = f256.synthesis(f256.mapping(torch.randn(1, f256.z_dim))).clamp(-1, 1)
        notes["f256"] = f"1 own sample, steps x {args.f256_scale}"
        print(f"random config-f 256², {notes['f256']}")
        all_curves["f256"] = measure(f256, own, "f256", args.f256_scale, args, lpips, args.f256_long)
    out = Path(args.out) / "img"
    out.mkdir(parents=True, exist_ok=True)
    write_csv(all_curves, out / "time-to-quality.csv")
    plot(all_curves, out / "time-to-quality.png")
    print_tables(all_curves, notes)
    print(f"\nwrote {out / 'time-to-quality.csv'} and {out / 'time-to-quality.png'}")


if __name__ == "__main__":
    main()
