"""Editing applications (morph, crossover mix, latent arithmetic) and the paper's studies."""
import csv
import math

import numpy as np
import pytest
import torch
from PIL import Image

from wplus.checkpoints import load_generator, save_generator
from wplus.cli import main
from wplus.editing import interpolate, mix, parse_layers, slerp, transfer
from wplus.editing.spectrum import high_frequency_share
from wplus.errors import WplusError
from wplus.io.latents import load_latents

from helpers import TINY, make_generator


@pytest.fixture(scope="module")
def codes(tiny_G):
    z = torch.randn(2, TINY.z_dim, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        return tiny_G.mapping(z)  # [2, num_ws, w_dim]


def test_interpolate_endpoints_and_midpoint(codes):
    frames = interpolate(codes[0], codes[1], [0.0, 0.5, 1.0])
    assert torch.equal(frames[0], codes[0]) and torch.allclose(frames[2], codes[1])
    assert torch.allclose(frames[1], (codes[0] + codes[1]) / 2)
    za, zb = torch.randn(8), torch.randn(8)
    s = slerp(za, zb, [0.0, 0.5, 1.0])
    assert torch.allclose(s[0], za, atol=1e-5) and torch.allclose(s[2], zb, atol=1e-5)


def test_mix_all_none_and_range(codes):
    content, style = codes[0], codes[1]
    assert torch.equal(mix(content, style, parse_layers("all", TINY.num_ws)), style)
    assert torch.equal(mix(content, style, parse_layers("", TINY.num_ws)), content)
    with pytest.raises(WplusError, match="layers 8, 9, 10, 11, ... 40 do not exist.*0-7"):
        parse_layers("0-40", TINY.num_ws)
    with pytest.raises(WplusError, match="different shapes"):
        mix(content, style[:4], [0])


def test_early_layers_change_coarse_structure_late_ones_fine(tiny_G):
    """Swapping late layers moves relatively more energy to high frequencies than swapping
    early ones. Measured on this tiny random G over 6 pairs (cutoff 0.25 cycles/px): the
    high-frequency fraction is 0.004 for layers 0-2 and 0.010 for layers 5-7."""
    high_coarse = high_fine = 0.0
    for seed in range(6):
        z = torch.randn(2, TINY.z_dim, generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            ws = tiny_G.mapping(z)
            content, style = ws[:1], ws[1:]
            base = tiny_G.synthesis(content)
            high_coarse += high_frequency_share(tiny_G.synthesis(mix(content, style, range(0, 3))) - base)
            high_fine += high_frequency_share(tiny_G.synthesis(mix(content, style, range(5, 8))) - base)
    assert high_fine > 1.5 * high_coarse, (high_coarse, high_fine)


def test_transfer_strength_zero_is_identity(codes):
    target = codes[0] * 0.5
    assert torch.equal(transfer(target, codes[0], codes[1], 0.0), target)
    assert torch.allclose(transfer(target, codes[0], codes[1], 1.0), target + codes[1] - codes[0])


def _assert_tiles_are_renders(G, path, ws: torch.Tensor) -> None:
    """The PNG at `path` is one row of tiles, tile i the render of ws[i] (to 8-bit rounding)."""
    with torch.no_grad():
        renders = G.synthesis(ws, noise_mode="const").clamp(-1, 1)
    want = ((renders + 1) * 127.5).permute(0, 2, 3, 1).numpy()  # [N, R, R, 3] in 0..255
    strip = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
    r = G.resolution
    assert strip.shape == (r, r * len(ws), 3), strip.shape
    tiles = strip.reshape(r, len(ws), r, 3).transpose(1, 0, 2, 3)
    assert np.abs(tiles - want).max() <= 1.0, np.abs(tiles - want).max(axis=(1, 2, 3))


def test_cli_editing_commands(tmp_path, capsys):
    G = make_generator()
    gen = str(save_generator(G, tmp_path / "g.safetensors"))
    assert main(["generate", "--generator", gen, "--seeds", "0-2", "--out", str(tmp_path / "s")]) == 0
    common = ["--generator", gen, "--steps", "5", "--loss", "mse", "--cache-dir", str(tmp_path / "cache")]
    a, b = str(tmp_path / "s" / "seed0000.png"), str(tmp_path / "s" / "seeds.npz")
    assert main(["morph", a, b, "--frames", "5", "--out", str(tmp_path / "m"), *common]) == 0
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1  # the image was embedded and cached
    assert main(["mix", a, b, "--layers", "0-3", "--out", str(tmp_path / "x"), *common]) == 0
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1  # reused
    assert main(["transfer", a, "--from", b, "--to", a, "--strength", "0", "--out", str(tmp_path / "t"), *common]) == 0
    assert (tmp_path / "m/morph.gif").stat().st_size > 0
    (cached,) = (tmp_path / "cache").glob("*.npz")
    code_a, code_b = load_latents(cached)[0], load_latents(b)[0][:1]  # what the commands used
    G = load_generator(gen)

    morph = load_latents(tmp_path / "m/morph.npz")[0]  # [frames, num_ws, w_dim]
    assert morph.shape == (5, TINY.num_ws, TINY.w_dim)
    torch.testing.assert_close(morph, interpolate(code_a[0], code_b[0], torch.linspace(0, 1, 5)))
    torch.testing.assert_close(morph[0], code_a[0])
    torch.testing.assert_close(morph[-1], code_b[0])
    _assert_tiles_are_renders(G, tmp_path / "m/morph_strip.png", morph)  # 5 frames: all shown

    mixed = load_latents(tmp_path / "x/mix.npz")[0]
    torch.testing.assert_close(mixed[:, :4], code_b[:, :4], rtol=0, atol=0)  # layers 0-3: style
    torch.testing.assert_close(mixed[:, 4:], code_a[:, 4:], rtol=0, atol=0)  # the rest: content
    _assert_tiles_are_renders(G, tmp_path / "x/mix.png", torch.cat([code_a, code_b, mixed]))

    torch.testing.assert_close(load_latents(tmp_path / "t/transfer.npz")[0], code_a)  # strength 0
    _assert_tiles_are_renders(G, tmp_path / "t/transfer.png",
                              torch.cat([code_a, code_b, code_a, code_a]))  # target, from, to, result
    other = save_generator(make_generator(TINY.__class__(resolution=16, z_dim=8, w_dim=8, channel_base=64,
                                                          channel_max=8, mapping_layers=1)), tmp_path / "o.safetensors")
    assert main(["mix", b, b, "--generator", str(other), "--out", str(tmp_path / "y")]) == 2
    assert "do not fit this generator (num_ws 6, w_dim 8)" in capsys.readouterr().err


@pytest.fixture(scope="module")
def experiment_run(tmp_path_factory, vgg_file):
    out = tmp_path_factory.mktemp("exp")
    gen = str(save_generator(make_generator(), out / "g.safetensors"))
    assert main(["experiment", "all", "--generator", gen, "--steps", "60", "--vgg16", vgg_file,
                 "--out", str(out / "results"), "--loss", "i2s"]) == 0
    return out / "results"


#: Studies whose figure is: a row of targets, then one row of reconstructions per variant
#: (the CSV's first column), in the CSV's order.
VARIANT_COLUMN = {"spaces": "space", "init": "init", "loss": "loss", "random-generator": "generator"}


def _figure_mse(path, resolution: int) -> np.ndarray:
    """MSE in [-1, 1] units of every tile of a figure against the tile above it in row 0."""
    fig = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 127.5 - 1
    rows, cols = fig.shape[0] // resolution, fig.shape[1] // resolution
    assert fig.shape[:2] == (rows * resolution, cols * resolution), fig.shape
    tiles = fig.reshape(rows, resolution, cols, resolution, 3).transpose(0, 2, 1, 3, 4)
    return ((tiles - tiles[:1]) ** 2).mean(axis=(2, 3, 4))  # [rows, cols]


def check_study_outputs(results, name: str, resolution: int) -> None:
    """The numbers are metrics (ranges; PSNR consistent with MSE), NAME.md shows them, and
    the figure shows what was measured: its reconstructions reproduce the CSV's MSE."""
    with open(results / f"{name}.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows
    table = (results / f"{name}.md").read_text()
    for row in rows:
        m = {key: float(row[key]) for key in ("mse", "psnr", "ms_ssim", "perceptual", "lpips")}
        assert 0 < m["mse"] <= 4 and 0 <= m["ms_ssim"] <= 1, (name, row)
        assert m["perceptual"] >= 0 and m["lpips"] >= 0, (name, row)
        # PSNR is the mean of the images' 10 log10(2² / mse): never below the PSNR of the mean
        # MSE (Jensen), equal to it for a row of one image.
        of_mean = 10 * math.log10(4 / m["mse"])
        if name == "non-face" or row.get("targets", "").startswith("photo"):
            assert m["psnr"] == pytest.approx(of_mean, abs=1e-3), (name, row)
        else:
            assert m["psnr"] >= of_mean - 1e-3, (name, row)
        assert f"{m['mse']:.4g}" in table and f"{m['psnr']:.4g}" in table, (name, row)
    # Measured: the figure's 8-bit tiles give the CSV's MSE within 1.2 % (rounding adds ~1e-5).
    close = lambda shown, measured: abs(shown - measured) <= 0.03 * measured + 2e-5
    tile_mse = _figure_mse(results / f"{name}.png", resolution)
    if name == "non-face":  # rows: targets, reconstructions, morph; one CSV row per image
        for i, row in enumerate(rows):
            assert close(tile_mse[1, i], float(row["mse"])), (name, i, tile_mse[1, i], row)
    elif name in VARIANT_COLUMN:  # columns: 3 model samples, then the photo
        variants = list(dict.fromkeys(row[VARIANT_COLUMN[name]] for row in rows))
        assert tile_mse.shape == (1 + len(variants), 4), tile_mse.shape
        for row in rows:
            cols = [0, 1, 2] if row["targets"] == "3 model samples" else [3]
            shown = tile_mse[1 + variants.index(row[VARIANT_COLUMN[name]]), cols].mean()
            assert close(shown, float(row["mse"])), (name, row, shown)


@pytest.mark.parametrize("name", ["spaces", "init", "loss", "random-generator", "affine", "non-face"])
def test_each_study_writes_real_numbers(experiment_run, name):
    check_study_outputs(experiment_run, name, TINY.resolution)
    assert f"## {name}" in (experiment_run / "experiments.md").read_text()


def test_spaces_study_orders_w_plus_over_w(experiment_run):
    with open(experiment_run / "spaces.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["space"], r["targets"]) for r in rows] == [
        (space, group) for space in ("z", "w", "w+") for group in ("3 model samples", "photo (astronaut)")]
    psnr = {row["space"]: float(row["psnr"]) for row in rows if row["targets"] == "3 model samples"}
    assert psnr["w+"] >= psnr["w"]


def test_loss_study_without_vgg_ablates_the_fallback_terms(tmp_path, monkeypatch):
    monkeypatch.delenv("WPLUS_VGG16", raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    gen = str(save_generator(make_generator(), tmp_path / "g.safetensors"))
    assert main(["experiment", "loss", "--generator", gen, "--steps", "40", "--out", str(tmp_path / "r")]) == 0
    with open(tmp_path / "r" / "loss.csv") as f:
        rows = {row["loss"]: row for row in csv.DictReader(f)}
    assert list(rows) == ["mse only", "ms-ssim only", "mse + ms-ssim"]
    assert all(math.isfinite(float(r["psnr"])) and math.isnan(float(r["lpips"])) for r in rows.values())
    table = (tmp_path / "r" / "loss.md").read_text()
    assert "| loss | targets | mse | psnr | ms_ssim |" in table and "perceptual, lpips" in table
