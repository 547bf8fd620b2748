"""Command line: `wplus embed | align | morph | mix | transfer | experiment | embed-dataset |
generate | convert | info`."""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from . import __version__
from .checkpoints import load_generator, save_generator
from .devices import pick_device
from .distributed import Rank, embed_shard, init_process_group, read_manifest, shard, write_index
from .editing import interpolate, mix, parse_layers, transfer
from .editing.inputs import code_for
from .errors import WplusError
from .experiments import STUDIES
from .experiments.common import FACE_SAMPLES, Context, bundled_images, generator_samples, write_study
from .inversion import INITS, PRESETS, SPACES, Snapshots, StepState, embed
from .io.align import align, paste_back
from .io.images import (ImageLoadError, LoadedImage, find_images, image_grid, load_image, read_rgb,
                        save_image, to_generator_input, to_uint8)
from .io.latents import save_latents
from .io.video import write_gif, write_video
from .losses import LOSS_KINDS, build_loss
from .losses.lpips import LPIPS, load_heads
from .models.registry import sha256_file
from .models.vgg16 import VGGWeightsNotFound
from .ranges import parse_int_ranges


def parse_seeds(text: str) -> list[int]:
    """'0-7' or '1,4,9' or '0-3,10' -> list of ints."""
    try:
        return parse_int_ranges(text)
    except ValueError:
        raise WplusError(f"bad --seeds {text!r}; use e.g. 0-7 or 1,4,9") from None


def _load_inputs(paths: list[Path], resolution: int, do_align: bool,
                 largest: bool) -> tuple[list[LoadedImage], int]:
    """Read (and optionally face-align) every input; unreadable or faceless ones are reported
    on one line each and skipped. Returns (items, number skipped)."""
    if not paths:
        raise WplusError("no images found in the given inputs (supported: jpg, png, webp, bmp, tif, gif)")
    loaded: list[LoadedImage] = []
    skipped = 0
    for p in paths:
        try:
            items = _aligned_faces(p, resolution, largest) if do_align else [load_image(p, resolution)]
        except ImageLoadError as exc:
            print(f"skipped: {exc}", file=sys.stderr)
            skipped += 1
            continue
        for item in items:
            if item.note:
                print(f"note: {p}: {item.note}", file=sys.stderr)
        loaded += items
    return loaded, skipped


def face_name(path: Path, index: int, count: int) -> str:
    """Output stem of face `index` of `count` found in `path`: numbered only when several."""
    return path.stem if count == 1 else f"{path.stem}_face{index}"


def _aligned_faces(path: Path, size: int, largest: bool) -> list[LoadedImage]:
    found = align(read_rgb(path), size=size, largest=largest)
    if not found:
        raise ImageLoadError(f"{path}: no face found")
    items = []
    for k, (face, alignment) in enumerate(found):
        array = np.asarray(alignment.image, dtype=np.float64)
        tensor, _ = to_generator_input(array, size)
        name = face_name(path, k, len(found))
        note = f"face {k} of {len(found)} (p={face.probability:.3f}) aligned to {size}x{size}"
        items.append(LoadedImage(path, tensor, note, name=name, alignment=alignment))
    return items


def cmd_align(args: argparse.Namespace) -> int:
    paths = find_images(args.inputs)
    if not paths:
        raise WplusError("no images found in the given inputs")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = skipped = 0
    for p in paths:
        try:
            found = align(read_rgb(p), size=args.size, largest=args.largest)
        except ImageLoadError as exc:
            print(f"skipped: {exc}", file=sys.stderr)
            skipped += 1
            continue
        if not found:
            print(f"skipped: {p}: no face found", file=sys.stderr)
            skipped += 1
            continue
        for k, (face, alignment) in enumerate(found):
            name = face_name(p, k, len(found))
            alignment.image.save(out / f"{name}.png")
            written += 1
    print(f"aligned {written} face(s) from {len(paths) - skipped} image(s) into {out}/"
          + (f"; skipped {skipped}" if skipped else ""))
    return 1 if skipped else (0 if written else 2)


def unique_stems(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for stem in names:
        seen[stem] = seen.get(stem, 0) + 1
        out.append(stem if seen[stem] == 1 else f"{stem}_{seen[stem]}")
    return out


def _progress(bar: tqdm):
    def update(state: StepState) -> None:
        bar.update(1)
        if state.step % 10 == 0 or state.step == state.total_steps - 1:
            bar.set_postfix(loss=f"{state.best_loss.mean():.4f}", psnr=f"{state.psnr.mean():.2f}dB")
    return update


def _video_frames(snapshots: Snapshots, index: int, target: torch.Tensor) -> list:
    scale = max(1, 256 // target.shape[-1])
    frames = []
    for _, batch in snapshots.frames:
        pair = torch.cat([target, batch[index:index + 1]], dim=3)
        if scale > 1:
            pair = torch.nn.functional.interpolate(pair, scale_factor=scale, mode="nearest")
        frames.append(to_uint8(pair)[0])
    return frames


def _config_and_loss(args: argparse.Namespace, warn: bool = True, **fields):
    """Preset + the options given (None = not given) -> (EmbedConfig, loss); prints the
    one-line loss warning, if any."""
    config = replace(PRESETS[getattr(args, "preset", "default")], **{k: v for k, v in fields.items() if v is not None})
    loss, warning = build_loss(config.loss, vgg16=args.vgg16, mse_weight=config.mse_weight,
                               perceptual_weight=config.perceptual_weight,
                               perceptual_resolution=config.perceptual_resolution)
    if warning and warn:
        print(warning, file=sys.stderr)
    return config, loss


def cmd_embed(args: argparse.Namespace) -> int:
    device = pick_device(args.device)
    G = load_generator(args.generator, device)
    config, loss = _config_and_loss(args, space=args.space, steps=args.steps, init=args.init, lr=args.lr,
                                    loss=args.loss, seed=args.seed, early_stop=args.early_stop or None,
                                    perceptual_resolution=args.perceptual_resolution)
    paths = find_images(args.inputs)
    loaded, skipped = _load_inputs(paths, G.resolution, args.align, args.largest)
    if not loaded:
        raise WplusError(f"none of the {len(paths)} inputs could be {'aligned' if args.align else 'read'}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stems = unique_stems([item.name for item in loaded])
    meta_base = {"generator": G.source, "generator_sha": G.fingerprint(), "loss": loss.name,
                 "config": config.to_dict(), "wplus_version": __version__}
    psnrs = []
    n_batches = -(-len(loaded) // args.batch_size)
    for b, start in enumerate(range(0, len(loaded), args.batch_size)):
        chunk = loaded[start:start + args.batch_size]
        targets = torch.cat([item.tensor for item in chunk]).to(device)
        snapshots = Snapshots(every=max(1, config.steps // 120)) if args.video else None
        with tqdm(total=config.steps, desc=f"batch {b + 1}/{n_batches} ({len(chunk)} img)",
                  unit="step", file=sys.stderr, dynamic_ncols=True) as bar:
            callbacks = [_progress(bar)] + ([snapshots] if snapshots else [])
            result = embed(G, targets, config, loss=loss, callbacks=callbacks)
        for i, item in enumerate(chunk):
            if not torch.isfinite(result.loss[i]):  # interrupted before its first step
                continue
            stem = stems[start + i]
            meta = {**meta_base, "source": str(item.path), "preprocess": item.note,
                    "steps_run": result.steps}
            save_latents(out / f"{stem}.npz", result.latents[i:i + 1], meta,
                         loss=result.loss[i:i + 1], psnr=result.psnr[i:i + 1])
            save_image(result.images[i], out / f"{stem}_recon.png")
            save_image(image_grid(torch.stack([targets[i], result.images[i]])), out / f"{stem}_compare.png")
            if snapshots and snapshots.frames:
                write_video(_video_frames(snapshots, i, targets[i:i + 1].cpu()), out / f"{stem}.mp4", fps=24)
            if args.paste_back and item.alignment is not None:
                photo = Image.fromarray(read_rgb(item.path).astype(np.uint8))
                recon = Image.fromarray(to_uint8(result.images[i:i + 1])[0])
                paste_back(photo, item.alignment, recon).save(out / f"{stem}_pasted.png")
            psnrs.append(float(result.psnr[i]))
        if result.interrupted:
            print(f"interrupted at step {result.steps} of batch {b + 1}: its best-so-far results "
                  f"and those of earlier batches are saved in {out}/", file=sys.stderr)
            return 130
    mean_psnr = sum(psnrs) / len(psnrs)
    print(f"embedded {len(loaded)} image(s) into {config.space.upper()} with {loss.name} loss, "
          f"mean PSNR {mean_psnr:.2f} dB; results in {out}/" +
          (f"; skipped {skipped} input(s)" if skipped else ""))
    return 1 if skipped else 0


def cmd_generate(args: argparse.Namespace) -> int:
    device = pick_device(args.device)
    G = load_generator(args.generator, device)
    seeds = parse_seeds(args.seeds)
    z = torch.stack([torch.randn(G.z_dim, generator=torch.Generator().manual_seed(s)) for s in seeds])
    with torch.no_grad():
        ws = G.mapping(z.to(device), truncation_psi=args.truncation)
        images = G.synthesis(ws, noise_mode=args.noise_mode)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for s, img in zip(seeds, images):
        save_image(img, out / f"seed{s:04d}.png")
    save_image(image_grid(images, columns=min(8, len(seeds))), out / "grid.png")
    save_latents(out / "seeds.npz", ws, {"generator": G.source, "generator_sha": G.fingerprint(),
                                          "seeds": seeds, "truncation_psi": args.truncation})
    print(f"generated {len(seeds)} image(s) and their w in {out}/")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    G = load_generator(args.generator)
    cfg = G.config
    n_params = sum(p.numel() for p in G.parameters())
    print(f"source:      {G.source}")
    print(f"format:      {G.source_format}")
    if Path(args.generator).is_file():
        print(f"file sha256: {sha256_file(Path(args.generator))}")
    print(f"resolution:  {cfg.resolution}x{cfg.resolution}")
    print(f"num_ws:      {cfg.num_ws}  w_dim: {cfg.w_dim}  z_dim: {cfg.z_dim}")
    print(f"channels:    base {cfg.channel_base}, max {cfg.channel_max}; mapping layers {cfg.mapping_layers}")
    print(f"parameters:  {n_params:,}")
    print(f"fingerprint: {G.fingerprint()}")
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    G = load_generator(args.source)
    out = Path(args.dest)
    if out.suffix != ".safetensors":
        raise WplusError(f"{out}: the output must end in .safetensors")
    save_generator(G, out, extra_metadata={"source_format": G.source_format, "source_file": Path(args.source).name,
                                            "source_sha256": sha256_file(Path(args.source))})
    print(f"converted {args.source} ({G.source_format}, {G.resolution}x{G.resolution}, num_ws {G.num_ws}) -> {out}")
    return 0


def _render(G, ws: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return G.synthesis(ws, noise_mode="const").clamp(-1, 1).cpu()


def _edit_setup(args: argparse.Namespace):
    """Generator, embedding config and loss shared by morph / mix / transfer."""
    device = pick_device(args.device)
    G = load_generator(args.generator, device)
    config, loss = _config_and_loss(args, space=args.space, steps=args.steps, loss=args.loss)
    cache = Path(args.cache_dir) if args.cache_dir else None
    code = lambda p: code_for(G, p, config, loss, cache)  # noqa: E731
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    return G, code, out


def cmd_morph(args: argparse.Namespace) -> int:
    G, code, out = _edit_setup(args)
    if args.frames < 2:
        raise WplusError("--frames must be at least 2")
    ws = interpolate(code(args.a)[0], code(args.b)[0], torch.linspace(0, 1, args.frames))
    frames = torch.cat([_render(G, ws[i:i + 8]) for i in range(0, len(ws), 8)])
    strip = frames[torch.linspace(0, len(frames) - 1, min(len(frames), 8)).round().long()]
    save_image(image_grid(strip), out / "morph_strip.png")
    save_latents(out / "morph.npz", ws, {"a": args.a, "b": args.b, "frames": args.frames})
    video = [to_uint8(_upscale(f[None]))[0] for f in frames]
    path = write_video(video, out / "morph.mp4") if args.video else write_gif(video, out / "morph.gif")
    print(f"morph of {len(frames)} frames: {out / 'morph_strip.png'}, {path}, {out / 'morph.npz'}")
    return 0


def cmd_mix(args: argparse.Namespace) -> int:
    G, code, out = _edit_setup(args)
    layers = parse_layers(args.layers, G.num_ws)
    content, style = code(args.content), code(args.style)
    mixed = mix(content, style, layers)
    images = _render(G, torch.cat([content, style, mixed]))
    save_image(image_grid(images), out / "mix.png")
    save_latents(out / "mix.npz", mixed, {"content": args.content, "style": args.style, "layers": layers})
    print(f"content | style | mixed (layers {layers} from style): {out / 'mix.png'}, {out / 'mix.npz'}")
    return 0


def cmd_transfer(args: argparse.Namespace) -> int:
    G, code, out = _edit_setup(args)
    target, a, b = code(args.target), code(args.source), code(args.dest)
    result = transfer(target, a, b, args.strength)
    save_image(image_grid(_render(G, torch.cat([target, a, b, result]))), out / "transfer.png")
    save_latents(out / "transfer.npz", result, {"target": args.target, "from": args.source, "to": args.dest,
                                               "strength": args.strength})
    print(f"target | from | to | result: {out / 'transfer.png'}, {out / 'transfer.npz'}")
    return 0


def cmd_embed_dataset(args: argparse.Namespace) -> int:
    rank = Rank.from_env()
    device = rank.device(args.device)
    init_process_group(rank, device)
    try:
        G = load_generator(args.generator, device)
        config, loss = _config_and_loss(args, warn=rank.rank == 0, space=args.space, steps=args.steps,
                                        loss=args.loss)
        items = read_manifest(args.manifest)
        mine = shard(items, rank.rank, rank.world)
        out = Path(args.out)
        meta = {"generator": G.source, "generator_sha": G.fingerprint(), "loss": loss.name,
                "config": config.to_dict(), "wplus_version": __version__}
        with tqdm(total=len(mine), desc=f"rank {rank.rank}/{rank.world}", unit="img", file=sys.stderr,
                  disable=rank.rank != 0, dynamic_ncols=True) as bar:
            done, failed = embed_shard(G, mine, out, config, loss, args.batch_size, meta, bar.update)
        if rank.world > 1:
            torch.distributed.barrier()
        if rank.rank == 0:
            ok, missing = write_index(items, out)
            print(f"{ok} of {len(items)} images embedded ({done} now, {failed} failed now); "
                  f"index: {out / 'index.csv'}, codes: {out / 'latents.npz'}")
            return 0 if missing == 0 else 1
        return 0
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def cmd_experiment(args: argparse.Namespace) -> int:
    device = pick_device(args.device)
    G = load_generator(args.generator, device)
    config, loss = _config_and_loss(args, steps=args.steps, loss=args.loss)
    try:
        perceptual = build_loss("i2s", vgg16=args.vgg16)[0].to(device)
        lpips = LPIPS(perceptual.perceptual.vgg, load_heads()).to(device)  # one VGG16 serves both
    except VGGWeightsNotFound:
        perceptual = lpips = None
    if args.images:
        loaded, _ = _load_inputs(find_images([args.images]), G.resolution, False, False)
        if not loaded:
            raise WplusError(f"{args.images}: no readable images")
        images, names = torch.cat([i.tensor for i in loaded]).to(device), [i.name for i in loaded]
        groups = {}
    else:  # the generator's own samples (known ground truth) and a real photo
        real, real_names = bundled_images(FACE_SAMPLES, G.resolution)
        images = torch.cat([generator_samples(G, 3), real.to(device)])
        names = ["sample0", "sample1", "sample2", *real_names]
        groups = {"3 model samples": [0, 1, 2], f"photo ({real_names[0]})": [3]}
    out = Path(args.out)
    ctx = Context(G, images, names, config, loss, perceptual, lpips, out, groups)
    names_to_run = list(STUDIES) if args.name == "all" else [args.name]
    sections = []
    for name in names_to_run:
        print(f"running {name} ({config.steps} steps per embedding)...", file=sys.stderr)
        result = STUDIES[name](ctx)
        written = write_study(result, out)
        sections.append(written[1].read_text())
        print(f"{name}: " + ", ".join(str(p) for p in written))
    if args.name == "all":
        header = (f"# wplus experiments\n\ngenerator: {G.source}; images: {', '.join(names)}; "
                  f"{config.steps} Adam steps, lr {config.lr}, loss {loss.name}\n\n")
        (out / "experiments.md").write_text(header + "\n".join(sections))
    return 0


def _upscale(images: torch.Tensor, side: int = 256) -> torch.Tensor:
    scale = max(1, side // images.shape[-1])
    return torch.nn.functional.interpolate(images, scale_factor=scale, mode="nearest") if scale > 1 else images


def _add_embedding_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--generator", default="default", help="'default' or a generator file")
    p.add_argument("--preset", choices=sorted(PRESETS), default="default")
    p.add_argument("--space", choices=SPACES, help="latent space for images (default w+)")
    p.add_argument("--steps", type=int, help="embedding steps for image inputs")
    p.add_argument("--loss", choices=LOSS_KINDS, help="auto = paper's MSE+VGG16 if weights exist")
    p.add_argument("--vgg16", help="path to torchvision's vgg16-397923af.pth")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")


def _add_edit_options(p: argparse.ArgumentParser) -> None:
    _add_embedding_options(p)
    p.add_argument("--cache-dir", help="embedding cache (default ~/.cache/wplus/embeddings)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wplus", description=__doc__)
    parser.add_argument("--version", action="version", version=f"wplus {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    e = sub.add_parser("embed", help="embed images into the generator's latent space")
    e.add_argument("inputs", nargs="+", help="image files and/or folders")
    e.add_argument("--generator", default="default", help="'default' or a generator file")
    e.add_argument("--preset", choices=sorted(PRESETS), default="default",
                   help="paper = 5000 steps as in Image2StyleGAN; default = 1000; fast = 300 with early stop")
    e.add_argument("--space", choices=SPACES, help="latent space (default w+)")
    e.add_argument("--steps", type=int, help="optimisation steps (overrides the preset)")
    e.add_argument("--init", choices=INITS, help="start from the mean latent or a random one")
    e.add_argument("--lr", type=float, help="Adam learning rate (default 0.01)")
    e.add_argument("--loss", choices=LOSS_KINDS, help="auto = paper's MSE+VGG16 if weights exist")
    e.add_argument("--vgg16", help="path to torchvision's vgg16-397923af.pth")
    e.add_argument("--perceptual-resolution", type=int, help="VGG input side (default 256)")
    e.add_argument("--early-stop", action="store_true", help="stop when the loss stops improving")
    e.add_argument("--seed", type=int, help="seed for random init")
    e.add_argument("--batch-size", type=int, default=8, help="images optimised together")
    e.add_argument("--out", default="wplus-out", help="output folder")
    e.add_argument("--video", action="store_true", help="also write an MP4 of the optimisation")
    e.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    e.add_argument("--align", action="store_true", help="detect and FFHQ-align faces first (MTCNN)")
    e.add_argument("--largest", action="store_true", help="with --align: only the largest face per photo")
    e.add_argument("--paste-back", action="store_true", help="with --align: paste reconstructions into the photo")
    e.set_defaults(func=cmd_embed)

    a = sub.add_parser("align", help="detect faces and write FFHQ-aligned crops")
    a.add_argument("inputs", nargs="+", help="photos and/or folders")
    a.add_argument("--size", type=int, default=1024, help="output side in pixels")
    a.add_argument("--largest", action="store_true", help="only the largest face per photo")
    a.add_argument("--out", default="wplus-out/aligned")
    a.set_defaults(func=cmd_align)

    g = sub.add_parser("generate", help="sample images (and their w) from the generator")
    g.add_argument("--generator", default="default")
    g.add_argument("--seeds", default="0-7", help="e.g. 0-7 or 1,4,9")
    g.add_argument("--truncation", type=float, default=1.0)
    g.add_argument("--noise-mode", choices=("const", "random", "none"), default="const")
    g.add_argument("--out", default="wplus-out/generated")
    g.add_argument("--device", default="auto")
    g.set_defaults(func=cmd_generate)

    i = sub.add_parser("info", help="describe a generator")
    i.add_argument("generator", nargs="?", default="default")
    i.set_defaults(func=cmd_info)

    m = sub.add_parser("morph", help="interpolate between two images or latent files")
    m.add_argument("a")
    m.add_argument("b")
    m.add_argument("--frames", type=int, default=30)
    m.add_argument("--video", action="store_true", help="MP4 instead of GIF")
    m.add_argument("--out", default="wplus-out/morph")
    _add_edit_options(m)
    m.set_defaults(func=cmd_morph)

    x = sub.add_parser("mix", help="style transfer by crossover: LAYERS from STYLE, the rest from CONTENT")
    x.add_argument("content")
    x.add_argument("style")
    x.add_argument("--layers", default="0-3", help="layers taken from STYLE: e.g. 0-3, 8-17, all")
    x.add_argument("--out", default="wplus-out/mix")
    _add_edit_options(x)
    x.set_defaults(func=cmd_mix)

    t = sub.add_parser("transfer", help="expression transfer: TARGET + strength * (TO - FROM)")
    t.add_argument("target")
    t.add_argument("--from", dest="source", required=True)
    t.add_argument("--to", dest="dest", required=True)
    t.add_argument("--strength", type=float, default=1.0)
    t.add_argument("--out", default="wplus-out/transfer")
    _add_edit_options(t)
    t.set_defaults(func=cmd_transfer)

    d = sub.add_parser("embed-dataset", help="embed a manifest of images, resumable; scale out with torchrun")
    d.add_argument("manifest", help="text file of image paths (one per line) or a folder")
    d.add_argument("--out", required=True, help="run folder (re-run the same command to resume)")
    d.add_argument("--batch-size", type=int, default=8)
    _add_embedding_options(d)
    d.set_defaults(func=cmd_embed_dataset)

    ex = sub.add_parser("experiment", help="reproduce the paper's studies on a generator")
    ex.add_argument("name", choices=[*STUDIES, "all"])
    ex.add_argument("--generator", default="default")
    ex.add_argument("--images", help="folder of target images (default: 3 generator samples + a photo)")
    ex.add_argument("--steps", type=int, default=300, help="Adam steps per embedding")
    ex.add_argument("--loss", choices=LOSS_KINDS)
    ex.add_argument("--vgg16", help="path to torchvision's vgg16-397923af.pth")
    ex.add_argument("--out", default="wplus-out/experiments")
    ex.add_argument("--device", default="auto")
    ex.set_defaults(func=cmd_experiment)

    c = sub.add_parser("convert", help="convert an NVIDIA/rosinality checkpoint to wplus .safetensors")
    c.add_argument("source")
    c.add_argument("dest")
    c.set_defaults(func=cmd_convert)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "batch_size", 1) < 1:
        print("error: --batch-size must be at least 1", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except WplusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: results of finished batches are saved", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
