"""Train the embedded default model: a 64x64 StyleGAN2 distilled from the DCGAN face teacher,
sharpened by an adversarial term.

Each step draws z ~ N(0, I) (100-d, the teacher's size) from a seeded generator:
- the first half of the batch is distilled: L1(student(z), teacher(z)), summed over 3 scales;
- the whole batch is also judged by a discriminator (non-saturating loss); the second half
  uses style mixing (two z's, crossover at a random layer) so W+ layers learn to act apart;
- D sees teacher samples as real data, with lazy R1 every `r1_every` steps.
G_ema (exponential moving average of G) is the model that ships. Checkpoints (atomic) keep
everything needed to continue bit-identically: G, G_ema, D, both optimisers, the step and
the z generator's state.
"""
from __future__ import annotations

import copy
import csv
import json
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from ..errors import WplusError
from ..io.images import image_grid, save_image
from ..models.registry import DEFAULT_CONFIG
from ..models.stylegan2 import Generator, GeneratorConfig
from ..seeds import z_block
from .dcgan import NZ, load_dcgan_teacher
from .discriminator import Discriminator

#: Settings that do not change what is computed, so a run may resume with other values.
RUN_ONLY_FIELDS = ("out", "max_steps", "checkpoint_minutes", "sample_every")


@dataclass
class TrainConfig:
    teacher: str = "../shared/weights/dcgan_faces/weights.tar"
    out: str = "runs/default-model"
    seed: int = 0
    batch: int = 32
    lr_g: float = 2e-3
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.9, 0.99)  # G: momentum helps the distillation regression
    d_betas: tuple[float, float] = (0.0, 0.99)
    l1_weight: float = 1.0
    adv_weight: float = 0.05
    r1_gamma: float = 0.5
    r1_every: int = 16
    r1_batch: int = 8  # R1 on a subset of the real batch: unbiased, 4x cheaper double-backward
    adv_every: int = 4
    mixing_prob: float = 0.9
    ema_half_life_images: int = 10_000
    max_steps: int = 1_000_000
    checkpoint_minutes: float = 5.0
    sample_every: int = 500
    d_channels: int = 128
    generator: dict = field(default_factory=lambda: asdict(DEFAULT_CONFIG))

    def generator_config(self) -> GeneratorConfig:
        return GeneratorConfig(**self.generator)


def multiscale_l1(a: torch.Tensor, b: torch.Tensor, scales: int = 3) -> torch.Tensor:
    total = a.new_zeros(())
    for s in range(scales):
        if s:
            a, b = F.avg_pool2d(a, 2), F.avg_pool2d(b, 2)
        total = total + (a - b).abs().mean()
    return total


def mixed_ws(G: Generator, z: torch.Tensor, z2: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Style mixing: layers from `cutoff` on come from z2 (cutoff random per batch)."""
    ws = G.mapping(z, update_w_avg=True)
    cutoff = int(torch.randint(1, G.num_ws, (), generator=gen))
    ws2 = G.mapping(z2)
    return torch.cat([ws[:, :cutoff], ws2[:, cutoff:]], dim=1)


class Trainer:
    def __init__(self, cfg: TrainConfig, device: str | torch.device = "cpu") -> None:
        if cfg.generator_config().resolution != 64 or cfg.generator_config().z_dim != NZ:
            raise WplusError(f"the default model must be 64x64 with z_dim {NZ} (the teacher's)")
        self.cfg, self.device = cfg, torch.device(device)
        self.out = Path(cfg.out)
        self.teacher = load_dcgan_teacher(cfg.teacher).to(self.device)
        torch.manual_seed(cfg.seed)
        self.G = Generator(cfg.generator_config()).to(self.device).train()
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.D = Discriminator(64, cfg.d_channels).to(self.device, memory_format=torch.channels_last)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.lr_g, betas=cfg.betas)
        r1_ratio = cfg.r1_every / (cfg.r1_every + 1)  # lazy-regularisation correction
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.lr_d * r1_ratio,
                                      betas=tuple(b ** r1_ratio for b in cfg.d_betas))
        self.gen = torch.Generator().manual_seed(cfg.seed)
        self.step = 0
        self.fixed_z = z_block(64, NZ, 12345)

    # --- persistence ---------------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path:
        return self.out / "checkpoint.pt"

    def state(self) -> dict:
        return {"G": self.G.state_dict(), "G_ema": self.G_ema.state_dict(), "D": self.D.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(), "step": self.step,
                "rng": self.gen.get_state(), "torch_rng": torch.get_rng_state(),
                "device_rng": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None,
                "config": json.dumps(asdict(self.cfg), sort_keys=True)}

    def save(self) -> Path:
        self.out.mkdir(parents=True, exist_ok=True)
        tmp = self.checkpoint_path.with_suffix(".tmp")
        torch.save(self.state(), tmp)
        tmp.replace(self.checkpoint_path)
        return self.checkpoint_path

    def resume(self) -> bool:
        """Load the checkpoint in `out` if there is one; True when resumed."""
        if not self.checkpoint_path.exists():
            return False
        # On the CPU: RNG states must stay there; load_state_dict moves tensors to the device.
        state = torch.load(self.checkpoint_path, map_location="cpu", weights_only=True)
        saved = {k: v for k, v in json.loads(state["config"]).items() if k not in RUN_ONLY_FIELDS}
        mine = {k: v for k, v in json.loads(json.dumps(asdict(self.cfg))).items() if k not in RUN_ONLY_FIELDS}
        if saved != mine:
            diff = sorted(k for k in mine if saved.get(k) != mine[k])
            raise WplusError(f"{self.checkpoint_path}: written with other settings ({', '.join(diff)}); "
                             "use another --out or the same settings")
        self.G.load_state_dict(state["G"])
        self.G_ema.load_state_dict(state["G_ema"])
        self.D.load_state_dict(state["D"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.step = int(state["step"])
        self.gen.set_state(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        if state.get("device_rng") is not None and self.device.type == "cuda":  # G's random noise inputs
            torch.cuda.set_rng_state(state["device_rng"], self.device)
        return True

    # --- training --------------------------------------------------------------------
    def _z(self, n: int) -> torch.Tensor:
        return torch.randn(n, NZ, generator=self.gen).to(self.device)

    def train_step(self) -> dict[str, float]:
        cfg, G, D = self.cfg, self.G, self.D
        n, half = cfg.batch, cfg.batch // 2
        z, z2 = self._z(n), self._z(n)
        mix = bool(torch.rand((), generator=self.gen) < cfg.mixing_prob)
        with torch.no_grad():
            real = self.teacher(self._z(n))
            target = self.teacher(z[:half])

        # G: distillation on the first half, adversarial on all (second half style-mixed)
        # every `adv_every` steps (D dominates the cost of a step on CPU).
        adversarial = self.step % cfg.adv_every == 0
        ws = G.mapping(z, update_w_avg=True)
        if mix:
            ws = torch.cat([ws[:half], mixed_ws(G, z[half:], z2[half:], self.gen)], dim=0)
        fake = G.synthesis(ws, noise_mode="random")
        l1 = multiscale_l1(fake[:half], target)
        g_adv = F.softplus(-D(fake)).mean() if adversarial else torch.zeros(())
        self.opt_g.zero_grad(set_to_none=True)
        (cfg.l1_weight * l1 + cfg.adv_weight * g_adv).backward()
        self.opt_g.step()
        stats = {"l1": l1.item(), "g_adv": g_adv.item(), "d_loss": 0.0, "r1": 0.0}
        if adversarial:
            stats.update(self._d_step(fake.detach(), real))
        self._update_ema()
        self.step += 1
        return stats

    def _d_step(self, fake: torch.Tensor, real: torch.Tensor) -> dict[str, float]:
        """Non-saturating loss; lazy R1 on real images every `r1_every` D steps."""
        cfg, D = self.cfg, self.D
        d_loss = F.softplus(D(fake)).mean() + F.softplus(-D(real)).mean()
        r1 = torch.zeros(())
        if (self.step // cfg.adv_every) % cfg.r1_every == 0:
            real_r = real[:cfg.r1_batch].detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(D(real_r).sum(), real_r, create_graph=True)
            r1 = grad.square().sum(dim=[1, 2, 3]).mean()
            d_loss = d_loss + cfg.r1_gamma / 2 * r1 * cfg.r1_every
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        return {"d_loss": d_loss.item(), "r1": r1.item()}

    @torch.no_grad()
    def _update_ema(self) -> None:
        beta = 0.5 ** (self.cfg.batch / max(self.cfg.ema_half_life_images, 1))
        for p_ema, p in zip(self.G_ema.parameters(), self.G.parameters()):
            p_ema.lerp_(p, 1 - beta)
        for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers()):
            b_ema.copy_(b)

    @torch.no_grad()
    def write_samples(self) -> Path:
        imgs = self.G_ema(self.fixed_z.to(self.device), noise_mode="const")
        path = self.out / "samples" / f"step{self.step:07d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        return save_image(image_grid(imgs.cpu(), columns=8), path)

    def run(self, log: Callable[[str], None] = lambda s: None) -> None:
        """Train until `max_steps`, checkpointing every `checkpoint_minutes`, at the end, and
        when SIGTERM/SIGINT arrives (then it stops after the current step)."""
        stop = []
        previous = {}
        if threading.current_thread() is threading.main_thread():  # signals can only be caught there
            previous = {sig: signal.signal(sig, lambda *_: stop.append(1)) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self._loop(log, stop)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.save()

    def _loop(self, log: Callable[[str], None], stop: list) -> None:
        cfg = self.cfg
        self.out.mkdir(parents=True, exist_ok=True)
        log_path = self.out / "log.csv"
        new_log = not log_path.exists()
        if not new_log:  # after a resume, drop rows of steps that are being redone
            lines = log_path.read_text().splitlines(keepends=True)
            kept = [ln for ln in lines[1:] if int(ln.split(",", 1)[0]) <= self.step]
            log_path.write_text("".join(lines[:1] + kept))
        last_ckpt = time.monotonic()
        with open(log_path, "a", newline="") as f:
            writer = csv.writer(f)
            if new_log:
                writer.writerow(["step", "images", "l1", "g_adv", "d_loss", "r1", "img_per_s", "time"])
            window: dict[str, list[float]] = {k: [] for k in ("l1", "g_adv", "d_loss", "r1")}
            t_window = time.perf_counter()
            while self.step < cfg.max_steps and not stop:
                stats = self.train_step()
                for key, value in stats.items():
                    if key == "l1" or value:  # adversarial terms: only steps that computed them
                        window[key].append(value)
                if self.step % 20 == 0 or self.step == cfg.max_steps:
                    elapsed = time.perf_counter() - t_window
                    means = {k: sum(v) / len(v) if v else 0.0 for k, v in window.items()}
                    rate = cfg.batch * len(window["l1"]) / elapsed
                    writer.writerow([self.step, self.step * cfg.batch, *(f"{means[k]:.5f}" for k in
                                     ("l1", "g_adv", "d_loss", "r1")), f"{rate:.1f}", time.time()])
                    f.flush()
                    log(f"step {self.step} l1 {means['l1']:.4f} g_adv {means['g_adv']:.3f} "
                        f"d {means['d_loss']:.3f} {rate:.0f} img/s")
                    window = {k: [] for k in window}
                    t_window = time.perf_counter()
                if self.step % cfg.sample_every == 0:
                    self.write_samples()
                if time.monotonic() - last_ckpt > cfg.checkpoint_minutes * 60:
                    self.save()
                    last_ckpt = time.monotonic()
