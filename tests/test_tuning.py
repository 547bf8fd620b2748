"""Pivotal tuning and generator deltas on a tiny generator: identity, exact save/apply,
locality, per-image independence, one-line errors, and the CLI round trip."""
import numpy as np
import pytest
import torch
from PIL import Image

from wplus.checkpoints import load_generator, save_generator
from wplus.cli import main
from wplus.errors import ConfigError, WplusError
from wplus.inversion.tuning import TuneConfig, tune
from wplus.io.deltas import load_delta, save_delta
from wplus.io.latents import load_latents
from wplus.models.delta import GeneratorDelta
from wplus.seeds import z_block

from helpers import make_generator

FAST = dict(pivot_steps=30, pivot_lr=0.05, steps=40, lr=3e-3, loss="mse")


def _target(G, seed: int = 5) -> torch.Tensor:
    """A photo-like target the generator cannot render: a smooth colour gradient plus stripes."""
    torch.manual_seed(seed)
    r = G.resolution
    y, x = torch.meshgrid(torch.linspace(-1, 1, r), torch.linspace(-1, 1, r), indexing="ij")
    img = torch.stack([0.6 * x, 0.5 * y, 0.4 * torch.sin(6 * x + seed)])
    return (img + 0.1 * torch.randn(3, r, r)).clamp(-1, 1)[None]


def _render(G, ws):
    with torch.no_grad():
        return G.synthesis(ws, noise_mode="const")


def test_tuning_improves_on_the_pivot_and_leaves_the_base_unchanged(tiny_G):
    before = {k: v.clone() for k, v in tiny_G.state_dict().items()}
    result = tune(tiny_G, _target(tiny_G), **FAST)
    assert all(torch.equal(before[k], v) for k, v in tiny_G.state_dict().items())
    assert result.psnr[0] > result.pivot_psnr[0] + 3, (result.pivot_psnr, result.psnr)
    assert result.history[0][-1] < result.history[0][0]
    assert not result.deltas[0].is_identity()


def test_saved_delta_reproduces_the_tuned_render_exactly(tiny_G, tmp_path):
    result = tune(tiny_G, _target(tiny_G), **FAST)
    path = save_delta(result.deltas[0], tmp_path / "d.safetensors")
    loaded = load_delta(path)
    assert loaded.base_fingerprint == tiny_G.fingerprint() and loaded.rank == 16
    tuned = loaded.apply(tiny_G)
    assert torch.equal(_render(tuned, result.pivots[:1]), result.images[:1])
    # float16 storage: the stored values are the tuned ones (rounded before the final render)
    tuned_delta = result.deltas[0]
    assert set(loaded.low_rank) == set(tuned_delta.low_rank) and set(loaded.full) == set(tuned_delta.full)
    assert all(torch.equal(loaded.update(n, p), tuned_delta.update(n, p)) for n, p in
               [(n, tiny_G.get_parameter(n)) for n in tuned_delta.names()])


def test_rank_zero_without_small_updates_and_zero_steps_are_the_identity(tiny_G):
    target = _target(tiny_G)
    for overrides in (dict(rank=0, small=False), dict(steps=0)):
        result = tune(tiny_G, target, **{**FAST, **overrides})
        assert result.deltas[0].is_identity()
        assert torch.equal(result.images, result.pivot_images)
    assert GeneratorDelta.zeros(tiny_G, 0, small=False).tensors() == []


def test_locality_regulariser_keeps_other_codes_closer(tiny_G):
    target = _target(tiny_G)
    pivots = tune(tiny_G, target, **{**FAST, "steps": 0}).pivots
    far = tiny_G.mapping(z_block(16, tiny_G.z_dim, 99))
    base = _render(tiny_G, far)
    drift = {}
    for weight in (0.0, 1.0):
        result = tune(tiny_G, target, pivots=pivots, **{**FAST, "steps": 60, "locality_weight": weight,
                                                        "locality_alpha": 3.0})
        drift[weight] = (_render(result.deltas[0].apply(tiny_G), far) - base).square().mean().item()
        assert result.psnr[0] > result.pivot_psnr[0] + 2
    assert drift[1.0] < 0.7 * drift[0.0], drift


def test_images_in_a_batch_are_tuned_independently(tiny_G):
    a, b = _target(tiny_G, 1), _target(tiny_G, 2)
    pivots = tune(tiny_G, torch.cat([a, b]), **{**FAST, "steps": 0}).pivots
    together = tune(tiny_G, torch.cat([a, b]), pivots=pivots, **FAST)
    alone = tune(tiny_G, b, pivots=pivots[1:], **FAST)
    assert torch.equal(together.images[1:], alone.images)
    assert not torch.equal(together.images[:1], together.images[1:])


def test_full_fine_tuning_is_a_full_size_delta(tiny_G):
    full = GeneratorDelta.zeros(tiny_G, None)
    low = GeneratorDelta.zeros(tiny_G, 4)
    assert full.num_values() == sum(p.numel() for p in tiny_G.synthesis.parameters())
    assert low.num_values() < full.num_values() / 4
    assert all(name.endswith("weight") for name in low.low_rank)


def test_delta_on_another_generator_is_a_one_line_error(tiny_G, tmp_path):
    delta = GeneratorDelta.zeros(tiny_G, 2)
    other = make_generator(seed=1)
    with pytest.raises(WplusError, match=f"tuned on generator {delta.base_fingerprint} but this generator is "
                                         f"{other.fingerprint()}") as info:
        delta.apply(other)
    assert "\n" not in str(info.value)
    (tmp_path / "not-delta.safetensors").write_bytes(b"garbage")
    with pytest.raises(WplusError, match="not a readable delta"):
        load_delta(tmp_path / "not-delta.safetensors")
    with pytest.raises(ConfigError, match="rank"):
        TuneConfig(rank=-1)


@pytest.fixture(scope="module")
def gen_file(tmp_path_factory):
    return str(save_generator(make_generator(), tmp_path_factory.mktemp("g") / "tiny.safetensors"))


def test_cli_tune_then_delta_everywhere(gen_file, tmp_path, capsys):
    G = load_generator(gen_file)
    photo = tmp_path / "photo.png"
    Image.fromarray(((_target(G)[0].permute(1, 2, 0) + 1) * 127.5).round().byte().numpy()).save(photo)
    out = tmp_path / "tuned"
    assert main(["tune", str(photo), "--generator", gen_file, "--pivot-steps", "20", "--steps", "30",
                 "--lr", "3e-3", "--loss", "mse", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "photo: PSNR" in printed and "(tuned)" in printed
    delta_file = out / "photo_delta.safetensors"
    w, meta = load_latents(out / "photo.npz")
    assert meta["delta"] == delta_file.name and meta["generator_sha"] == G.fingerprint()
    tuned = load_delta(delta_file).apply(G)
    recon = np.asarray(Image.open(out / "photo_recon.png"), dtype=np.float32) / 127.5 - 1
    rendered = _render(tuned, w)[0].clamp(-1, 1).permute(1, 2, 0).numpy()
    assert np.abs(recon - rendered).max() <= 1.01 / 127.5

    assert main(["info", str(delta_file)]) == 0
    printed = capsys.readouterr().out
    assert f"delta of:    generator {G.fingerprint()}" in printed and "at rank 16" in printed

    baked = tmp_path / "baked.safetensors"
    assert main(["convert", gen_file, str(baked), "--delta", str(delta_file)]) == 0
    assert torch.equal(_render(load_generator(baked), w), _render(tuned, w))

    gen_out = tmp_path / "gen"
    assert main(["generate", "--generator", gen_file, "--delta", str(delta_file), "--seeds", "3",
                 "--out", str(gen_out)]) == 0
    assert main(["generate", "--generator", gen_file, "--seeds", "3", "--out", str(tmp_path / "base")]) == 0
    assert (gen_out / "seed0003.png").read_bytes() != (tmp_path / "base" / "seed0003.png").read_bytes()

    other = str(save_generator(make_generator(seed=3), tmp_path / "other.safetensors"))
    capsys.readouterr()
    assert main(["generate", "--generator", other, "--delta", str(delta_file), "--seeds", "1",
                 "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "tuned on generator" in err and err.count("\n") == 1


def test_a_delta_keeps_the_base_models_directions_and_latent_space(tmp_path):
    from wplus.app import ModelOptions, Workspace
    from wplus.app.semantic import directions_for

    G = load_generator()
    target = _render(G, G.mapping(z_block(1, G.z_dim, 3))).clamp(-1, 1).flip(-1)
    result = tune(G, target, pivot_steps=3, steps=3, loss="mse")
    path = save_delta(result.deltas[0], tmp_path / "d.safetensors")
    ws = Workspace.open(ModelOptions(delta=str(path), device="cpu"))
    assert ws.fingerprint != G.fingerprint() and ws.base_fingerprint == G.fingerprint()
    assert "d.safetensors" in ws.G.source
    assert "smile" in directions_for(ws).directions  # the shipped directions of the base model
    assert torch.equal(ws.G.mapping.fc0.weight, G.mapping.fc0.weight)


@pytest.mark.parametrize("family", ["stylegan1", "stylegan3"])
def test_tuning_and_deltas_work_on_the_other_families(family, tmp_path):
    from wplus.models.families import make_generator as make_family
    from wplus.models.stylegan1 import StyleGAN1Config
    from wplus.models.stylegan3 import StyleGAN3Config

    torch.manual_seed(0)
    cfg = (StyleGAN1Config(resolution=32, z_dim=16, w_dim=16, channel_base=256, channel_max=16, mapping_layers=2)
           if family == "stylegan1" else StyleGAN3Config(resolution=32, z_dim=16, w_dim=16, channel_base=256,
                                                          channel_max=16))
    G = make_family(cfg).eval().requires_grad_(False)
    G.compute_w_avg(n=500)
    before = G.fingerprint()
    result = tune(G, _target(G), **{**FAST, "steps": 25})
    assert G.fingerprint() == before and result.history[0][-1] < result.history[0][0]
    tuned = load_delta(save_delta(result.deltas[0], tmp_path / "d.safetensors")).apply(G)
    assert torch.equal(_render(tuned, result.pivots), result.images)


def test_pti_study_compares_methods_at_the_same_budget(gen_file, tmp_path):
    import csv
    assert main(["experiment", "pti", "--generator", gen_file, "--preset", "paper", "--steps", "60", "--loss", "mse",
                 "--out", str(tmp_path)]) == 0  # paper: W+ with Image2StyleGAN's Adam
    with open(tmp_path / "pti.csv") as f:
        rows = {(r["method"], r["targets"]): r for r in csv.DictReader(f)}
    photo = "photo (astronaut)"
    assert {m for m, _ in rows} == {"W+ optimisation (adam)", "PTI rank 16", "PTI rank 16, no locality",
                                    "PTI full fine-tuning", "PTI fast preset"}
    assert float(rows["PTI rank 16", photo]["psnr"]) > float(rows["W+ optimisation (adam)", photo]["psnr"]) + 1
    assert float(rows["PTI full fine-tuning", photo]["delta_kib"]) > 2 * float(rows["PTI rank 16", photo]["delta_kib"])
    assert rows["W+ optimisation (adam)", photo]["steps"] == rows["PTI rank 16", photo]["steps"] == "60"
    assert (tmp_path / "pti.png").stat().st_size > 1000
