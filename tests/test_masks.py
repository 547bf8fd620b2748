"""Masked losses (Image2StyleGAN++): ignored pixels do not count, per image; inpainting."""
import numpy as np
import pytest
import torch
from PIL import Image

from wplus.checkpoints import save_generator
from wplus.cli import main
from wplus.errors import WplusError
from wplus.inversion import embed
from wplus.io.images import load_image
from wplus.io.masks import load_mask
from wplus.losses import build_loss

from helpers import TINY, make_generator


@pytest.fixture(scope="module")
def targets(tiny_G):
    z = torch.randn(2, TINY.z_dim, generator=torch.Generator().manual_seed(11))
    with torch.no_grad():
        return tiny_G.synthesis(tiny_G.mapping(z)).clamp(-1, 1)


def left_half() -> torch.Tensor:
    mask = torch.zeros(1, 1, TINY.resolution, TINY.resolution)
    mask[..., : TINY.resolution // 2] = 1
    return mask


@pytest.mark.parametrize("kind", ["mse", "mse+msssim", "i2s"])
def test_a_zero_mask_makes_the_loss_blind_to_that_half(kind, targets, vgg_file):
    loss = build_loss(kind, vgg16=vgg_file)
    images = (targets.flip(0) * 0.7).requires_grad_(True)
    state = loss.prepare(targets, left_half().expand(2, -1, -1, -1))
    loss(images, state).sum().backward()
    right = images.grad[..., TINY.resolution // 2:]
    assert right.abs().max() == 0 and images.grad[..., : TINY.resolution // 2].abs().max() > 0
    changed = images.detach().clone()
    changed[..., TINY.resolution // 2:] = torch.rand_like(changed[..., TINY.resolution // 2:])
    assert torch.allclose(loss(changed, state), loss(images.detach(), state), atol=1e-6)


def test_batched_masked_embedding_keeps_images_independent(tiny_G, targets):
    masks = torch.stack([left_half()[0], 1 - left_half()[0]])
    both = embed(tiny_G, targets, loss="mse", steps=30, masks=masks)
    start = embed(tiny_G, targets, loss="mse", steps=1, lr=0.0).latents
    for i in range(2):
        one = embed(tiny_G, targets[i:i + 1], loss="mse", steps=30, masks=masks[i:i + 1])
        moved = (both.latents[i] - start[i]).abs().max()
        assert (one.latents[0] - both.latents[i]).abs().max() < 0.01 * moved


def test_mask_files_and_their_errors(tmp_path, targets, tiny_G):
    grey = np.zeros((40, 80), np.uint8)
    grey[:, 40:] = 255
    grey[:, 20:40] = 128
    Image.fromarray(grey).save(tmp_path / "m.png")  # 80x40: centre-cropped to 40x40, then resized
    mask = load_mask(tmp_path / "m.png", 32)
    assert mask.shape == (1, 1, 32, 32) and mask[..., 0].max() < 0.55 and mask[..., -1].min() > 0.99
    Image.new("L", (16, 16), 0).save(tmp_path / "black.png")
    with pytest.raises(WplusError, match="all black"):
        load_mask(tmp_path / "black.png", 32)
    (tmp_path / "bad.png").write_text("no")
    with pytest.raises(WplusError, match="mask .*bad.png: not a readable image"):
        load_mask(tmp_path / "bad.png", 32)
    with pytest.raises(WplusError, match=r"masks must have shape \[2 or 1, 1, 32, 32\]"):
        embed(tiny_G, targets, loss="mse", steps=1, masks=torch.ones(1, 1, 16, 16))
    with pytest.raises(WplusError, match="a mask is empty"):
        embed(tiny_G, targets, loss="mse", steps=1, masks=torch.stack([left_half()[0], 0 * left_half()[0]]))


def test_inpaint_keeps_the_photo_and_fills_the_holes_from_the_render(tmp_path):
    G = make_generator()
    gen = str(save_generator(G, tmp_path / "g.safetensors"))
    assert main(["generate", "--generator", gen, "--seeds", "5", "--out", str(tmp_path / "s")]) == 0
    holes = np.full((32, 32), 255, np.uint8)
    holes[8:20, 10:22] = 0
    Image.fromarray(holes).save(tmp_path / "holes.png")
    assert main(["inpaint", str(tmp_path / "s" / "seed0005.png"), "--mask", str(tmp_path / "holes.png"),
                 "--generator", gen, "--loss", "mse", "--steps", "100", "--out", str(tmp_path / "o")]) == 0
    photo = load_image(tmp_path / "s" / "seed0005.png", 32).tensor
    filled = load_image(tmp_path / "o" / "seed0005_inpainted.png", 32).tensor
    render = load_image(tmp_path / "o" / "seed0005_recon.png", 32).tensor
    keep = torch.from_numpy(holes > 0)
    assert (filled - photo)[..., keep].abs().max() <= 1.01 / 127.5
    assert (filled - render)[..., ~keep].abs().max() <= 1.01 / 127.5
    assert (render - photo)[..., keep].square().mean() < 0.01  # the render fits the kept pixels


def test_inpaint_study_rows_and_helpers(tmp_path):
    from wplus.experiments.inpaint import blur_fill, centred_hole
    for fraction in (0.1, 0.25, 0.4):
        assert abs(float(1 - centred_hole(64, fraction).mean()) - fraction) < 0.02
    mask = centred_hole(32, 0.25)
    images = torch.rand(2, 3, 32, 32) * 2 - 1
    filled = blur_fill(images, mask, sigma=2.0)
    assert torch.equal(filled * mask, images * mask) and not torch.equal(filled, images)
    gen = str(save_generator(make_generator(), tmp_path / "g.safetensors"))
    assert main(["experiment", "inpaint", "--generator", gen, "--steps", "40", "--loss", "mse",
                 "--out", str(tmp_path / "r")]) == 0
    import csv
    with open(tmp_path / "r" / "inpaint.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["hole"], r["targets"]) for r in rows] == [
        (h, t) for h in ("10 %", "25 %", "40 %") for t in ("3 model samples", "photo (astronaut)")]
    assert all(np.isfinite(float(r[c])) for r in rows for c in list(r)[2:])
    assert (tmp_path / "r" / "inpaint.png").stat().st_size > 0
