"""Space w+n (Image2StyleGAN++): W+ and per-image noise maps, their schedules, saved maps that
re-render exactly, editing inputs with and without maps, and the spatial crossover (mix --mask)."""
import numpy as np
import pytest
import torch
from PIL import Image

from wplus.cli import main
from wplus.errors import ConfigError
from wplus.inversion import EmbedConfig, embed
from wplus.inversion.noise import noise_from_named, noise_names
from wplus.io.latents import load_latents, load_noise_maps, save_latents

from helpers import TINY, make_generator

STRENGTH = 0.1  # the shared tiny generator learned nothing: its noise strengths are 0


@pytest.fixture(scope="module")
def noisy_G():
    """A local tiny generator whose noise inputs matter (never the shared tiny_G)."""
    G = make_generator()
    for layer in G.synthesis.layers():
        layer.noise_strength.fill_(STRENGTH)
    return G


@pytest.fixture(scope="module")
def targets(noisy_G):
    """Two samples rendered with fresh noise: W+ alone cannot reach them exactly."""
    z = torch.randn(2, TINY.z_dim, generator=torch.Generator().manual_seed(7))
    gen = torch.Generator().manual_seed(8)
    maps = [torch.randn(2, 1, r.resolution, r.resolution, generator=gen) for r in noisy_G.synthesis.layers()]
    with torch.no_grad():
        return noisy_G.synthesis(noisy_G.mapping(z), noise=maps).clamp(-1, 1)


def record(store):
    return lambda s: store.append((s.ws.clone(), [m.clone() for m in s.noise]))


def test_sequential_moves_w_then_only_the_maps(noisy_G, targets):
    seen = []
    r = embed(noisy_G, targets, steps=20, loss="mse", space="w+n", noise_split=0.5, callbacks=[record(seen)])
    const = [layer.noise_const for layer in noisy_G.synthesis.layers()]
    for _, maps in seen[:10]:  # W+ phase: the maps are the generator's own, untouched
        assert all(torch.equal(m, c.expand_as(m)) for m, c in zip(maps, const))
    assert (seen[9][0] - seen[0][0]).abs().max() > 1e-3
    for ws, _ in seen[10:]:  # noise phase: W+ frozen
        assert torch.equal(ws, seen[10][0])
    assert all((a - b).abs().max() > 1e-3 for a, b in zip(seen[-1][1], seen[10][1]))  # every map moved
    assert r.noise is not None and r.history["psnr"][-1] > r.history["psnr"][9]
    with torch.no_grad():
        torch.testing.assert_close(noisy_G.synthesis(r.latents, noise=r.noise), r.images, atol=1e-5, rtol=0)


def test_joint_moves_both_and_beats_w_plus(noisy_G, targets):
    seen = []
    plain = embed(noisy_G, targets, steps=30, loss="mse", space="w+")
    r = embed(noisy_G, targets, steps=30, loss="mse", space="w+n", noise_schedule="joint", callbacks=[record(seen)])
    assert (seen[1][0] - seen[0][0]).abs().max() > 0 and (seen[1][1][-1] - seen[0][1][-1]).abs().max() > 0
    assert (r.psnr > plain.psnr).all()


def test_step_zero_renders_as_const_noise(noisy_G, targets):
    seen = []
    embed(noisy_G, targets, steps=1, loss="mse", space="w+n", callbacks=[lambda s: seen.append(s.images)])
    with torch.no_grad():
        const = noisy_G.synthesis(noisy_G.w_avg.view(1, 1, -1).expand(2, noisy_G.num_ws, -1), noise_mode="const")
    torch.testing.assert_close(seen[0], const, atol=1e-6, rtol=0)


def test_batched_runs_with_masks_equal_single_runs(noisy_G, targets):
    """Images do not interact: per-image masks and maps, both schedules, up to float noise (which
    Adam amplifies into whole steps on near-zero gradients, so the maps are compared on average)."""
    masks = torch.ones(2, 1, 32, 32)
    masks[0, :, :, :16], masks[1, :, 16:] = 0, 0
    const = [layer.noise_const for layer in noisy_G.synthesis.layers()]
    for schedule in ("sequential", "joint"):
        both = embed(noisy_G, targets, steps=16, loss="mse", space="w+n", noise_schedule=schedule, masks=masks)
        for i in range(2):
            one = embed(noisy_G, targets[i:i + 1], steps=16, loss="mse", space="w+n", noise_schedule=schedule,
                        masks=masks[i:i + 1])
            moved = (both.latents[i] - noisy_G.w_avg).abs().max()
            assert (one.latents[0] - both.latents[i]).abs().max() < 0.01 * moved
            for a, b, c in zip(both.noise, one.noise, const):
                assert (a[i] - b[0]).abs().mean() < 0.01 * (a[i] - c).abs().mean()
            assert (one.images[0] - both.images[i]).abs().max() < 2e-3


def test_saved_maps_re_render_bit_identically(noisy_G, targets, tmp_path):
    r = embed(noisy_G, targets[:1], steps=12, loss="mse", space="w+n", noise_split=0.25)
    names = noise_names(noisy_G)
    assert names[:3] == ["noise_b4_conv1", "noise_b8_conv0", "noise_b8_conv1"]
    save_latents(tmp_path / "a.npz", r.latents, {}, **dict(zip(names, r.noise)))
    w, _ = load_latents(tmp_path / "a.npz")
    maps = noise_from_named(noisy_G, load_noise_maps(tmp_path / "a.npz"))
    with torch.no_grad():
        assert torch.equal(noisy_G.synthesis(w, noise=maps), r.images)


def test_cli_embed_w_plus_n_file_renders_its_recon_png(noisy_G, targets, tmp_path):
    gen_file, photo = tmp_path / "g.safetensors", tmp_path / "face.png"
    from wplus.checkpoints import save_generator
    save_generator(noisy_G, gen_file)
    Image.fromarray(((targets[0].permute(1, 2, 0) + 1) * 127.5).round().byte().numpy()).save(photo)
    out = tmp_path / "out"
    assert main(["embed", str(photo), "--generator", str(gen_file), "--space", "w+n", "--steps", "8",
                 "--loss", "mse", "--out", str(out), "--device", "cpu"]) == 0
    arrays = np.load(out / "face.npz")
    assert set(noise_names(noisy_G)) <= set(arrays.files)
    assert arrays["noise_b32_conv1"].shape == (1, 1, 32, 32)
    w, _ = load_latents(out / "face.npz")
    with torch.no_grad():
        image = noisy_G.synthesis(w, noise=noise_from_named(noisy_G, load_noise_maps(out / "face.npz")))
    pixels = ((image[0].permute(1, 2, 0).clamp(-1, 1) + 1) * 127.5).round().byte().numpy()
    assert np.array_equal(pixels, np.asarray(Image.open(out / "face_recon.png").convert("RGB")))
    # editing commands take the file (with its maps) and files without maps alike; edit keeps the maps
    save_latents(tmp_path / "plain.npz", w)
    for spec in (out / "face.npz", tmp_path / "plain.npz"):
        assert main(["mix", str(spec), str(tmp_path / "plain.npz"), "--generator", str(gen_file), "--out",
                     str(tmp_path / "mixed"), "--device", "cpu"]) == 0
    from wplus.editing.direction_files import save_directions
    from wplus.editing.directions import Direction, DirectionSet
    dirs = tmp_path / "dirs.safetensors"
    save_directions(dirs, DirectionSet({"up": Direction(torch.ones(TINY.w_dim) / 8, [0, 1], 2.0)}, TINY.w_dim))
    for spec, has_maps in ((out / "face.npz", True), (tmp_path / "plain.npz", False)):
        assert main(["edit", str(spec), "--generator", str(gen_file), "--directions", str(dirs), "--direction",
                     "up=0.5", "--out", str(tmp_path / "e"), "--device", "cpu"]) == 0
        edited = load_noise_maps(tmp_path / "e" / "edit.npz")
        assert bool(edited) == has_maps
        assert all(np.array_equal(edited[k], arrays[k]) for k in edited)


def test_w_plus_n_without_noise_inputs_is_a_one_line_error(tmp_path, capsys):
    from wplus.checkpoints import save_generator
    from wplus.models.families import make_generator as make_family
    from wplus.models.stylegan3 import StyleGAN3Config
    torch.manual_seed(0)
    G = make_family(StyleGAN3Config(resolution=16, z_dim=8, w_dim=8, channel_base=64, channel_max=8))
    G.compute_w_avg(n=200)
    G.eval().requires_grad_(False)
    with torch.no_grad():
        target = G.synthesis(G.mapping(torch.randn(1, 8))).clamp(-1, 1)
    with pytest.raises(ConfigError, match="no noise inputs") as info:
        embed(G, target, steps=2, loss="mse", space="w+n")
    assert "\n" not in str(info.value)
    Image.fromarray(((target[0].permute(1, 2, 0) + 1) * 127.5).round().byte().numpy()).save(tmp_path / "x.png")
    gen = str(save_generator(G, tmp_path / "g3.safetensors"))
    capsys.readouterr()
    assert main(["embed", str(tmp_path / "x.png"), "--generator", gen, "--space", "w+n", "--steps", "2",
                 "--loss", "mse", "--out", str(tmp_path / "o"), "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "no noise inputs" in err and "\n" not in err


@pytest.mark.parametrize("bad, match", [(dict(noise_schedule="both"), "noise_schedule"),
                                        (dict(noise_split=1.5), "noise_split"),
                                        (dict(space="w+n", optimise_noise=True), "w\\+n optimises")])
def test_bad_noise_settings_are_one_line_errors(bad, match):
    with pytest.raises(ConfigError, match=match) as info:
        EmbedConfig(**bad)
    assert "\n" not in str(info.value)


def test_noise_defaults_follow_the_space():
    assert (EmbedConfig(space="w+n").noise_penalty, EmbedConfig(space="w+n").renormalises_noise) == (0.0, False)
    assert (EmbedConfig(optimise_noise=True).noise_penalty, EmbedConfig(optimise_noise=True).renormalises_noise) == (
        1e5, True)
    assert EmbedConfig(space="w+n", noise_weight=3.0, noise_renormalise=True).noise_penalty == 3.0


@pytest.mark.parametrize("space", ["w+", "w+n"])
def test_mask_mix_matches_content_where_white_and_style_where_black(noisy_G, tmp_path, space):
    from wplus.app import EditSources, EmbedOptions, Workspace, mix_files
    from wplus.losses import masked_mse
    z = torch.randn(2, TINY.z_dim, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        codes = noisy_G.mapping(z)
        renders = noisy_G.synthesis(codes).clamp(-1, 1)
    save_latents(tmp_path / "content.npz", codes[:1])
    save_latents(tmp_path / "style.npz", codes[1:])
    mask = np.zeros((32, 32), np.uint8)
    mask[:, :16] = 255  # left: content, right: style
    Image.fromarray(mask).save(tmp_path / "mask.png")
    ws = Workspace(noisy_G, torch.device("cpu"))
    sources = EditSources(EmbedOptions(steps=60, loss="mse", space=space))
    result = mix_files(ws, tmp_path / "content.npz", tmp_path / "style.npz", tmp_path / "out", sources=sources,
                       mask=tmp_path / "mask.png")
    w, meta = load_latents(result.latents)
    maps = noise_from_named(noisy_G, load_noise_maps(result.latents))
    assert (maps is not None) == (space == "w+n") and meta["config"]["space"] == space
    with torch.no_grad():
        image = noisy_G.synthesis(w, noise=maps).clamp(-1, 1)
    left = torch.zeros(1, 1, 32, 32)
    left[..., :16] = 1
    err = lambda target, region: float(masked_mse(image, target[None], region))
    assert err(renders[0], left) < err(renders[1], left) / 4  # content where white
    assert err(renders[1], 1 - left) < err(renders[0], 1 - left) / 4  # style where black


def test_mask_mix_with_a_one_colour_mask_is_a_one_line_error(noisy_G, tmp_path):
    from wplus.app import Workspace, mix_files
    save_latents(tmp_path / "a.npz", noisy_G.w_avg.view(1, 1, -1))
    Image.fromarray(np.full((8, 8), 255, np.uint8)).save(tmp_path / "white.png")
    with pytest.raises(Exception, match="all white") as info:
        mix_files(Workspace(noisy_G, torch.device("cpu")), tmp_path / "a.npz", tmp_path / "a.npz", tmp_path / "o",
                  mask=tmp_path / "white.png")
    assert "\n" not in str(info.value)


def test_noise_study_rows(noisy_G, tmp_path):
    import csv

    from wplus.checkpoints import save_generator
    gen = str(save_generator(noisy_G, tmp_path / "g.safetensors"))
    assert main(["experiment", "noise", "--generator", gen, "--steps", "30", "--loss", "mse", "--device", "cpu",
                 "--out", str(tmp_path / "r")]) == 0
    with open(tmp_path / "r" / "noise.csv") as f:
        rows = {(r["method"], r["targets"]): r for r in csv.DictReader(f)}
    groups = ("3 model samples", "photo (astronaut)", "3 model samples, fresh noise")
    assert list(rows) == [(m, g) for g in groups for m in ("W+", "W+n sequential", "W+n joint")]
    value = lambda m, g, c: float(rows[m, g][c])
    for g in groups:
        assert value("W+", g, "gain_db") == 0 and abs(value("W+", g, "noise_share_db")) < 1e-9
        assert value("W+n joint", g, "gain_db") > 0 and value("W+n joint", g, "noise_share_db") > 0
    assert np.isnan(value("W+n joint", "photo (astronaut)", "edit_psnr"))
    assert np.isfinite(value("W+n joint", "3 model samples, fresh noise", "edit_survival"))
    assert (tmp_path / "r" / "noise.png").stat().st_size > 0
