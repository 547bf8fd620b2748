"""The application layer without a front end: events, outputs, stop, errors, settings."""
import re
import threading

import pytest
import torch

from wplus import ConfigError, EmbedConfig, GeneratorConfig, embed
from wplus.app import (
    BatchFinished,
    BatchStarted,
    EditSources,
    EmbedJob,
    EmbedOptions,
    FacesFound,
    Notice,
    StepDone,
    Workspace,
    align_files,
    bundled_examples,
    embed_files,
    generate,
    mix_files,
    morph_files,
)
from wplus.editing import mix
from wplus.io.images import load_image
from wplus.io.latents import load_latents, save_latents
from wplus.seeds import z_for_seeds

from helpers import TINY, make_generator


@pytest.fixture(scope="module")
def ws():
    return Workspace(make_generator(), torch.device("cpu"))


@pytest.fixture(scope="module")
def samples(ws, tmp_path_factory):
    """Two of the generator's own samples as PNG files, and their seeds.npz."""
    return generate(ws, [3, 4], tmp_path_factory.mktemp("samples"))


def test_generate_writes_each_seeds_render_and_w(ws, samples):
    w, meta = load_latents(samples.latents)
    with torch.no_grad():
        expected = ws.G.mapping(z_for_seeds([3, 4], TINY.z_dim))
    assert torch.allclose(w, expected) and meta["seeds"] == [3, 4]
    for path, code in zip(samples.images, expected):
        with torch.no_grad():
            render = ws.G.synthesis(code[None]).clamp(-1, 1)
        assert (load_image(path, TINY.resolution).tensor - render).abs().max() <= 1.01 / 127.5


def test_embed_files_reports_events_and_writes_results(ws, samples, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG not really")
    events = []
    job = EmbedJob([*samples.images, bad], tmp_path / "out", EmbedOptions(steps=40, loss="mse"), batch_size=1)
    result = embed_files(ws, job, events.append)
    assert result.skipped == 1 and [i.name for i in result.images] == ["seed0003", "seed0004"]
    skipped = [e for e in events if isinstance(e, Notice) and e.kind == "skipped"]
    assert len(skipped) == 1 and "broken.png" in skipped[0].text
    kinds = [type(e) for e in events if not isinstance(e, Notice)]
    assert kinds == [BatchStarted, *[StepDone] * 40, BatchFinished] * 2
    steps = [e.state.step for e in events if isinstance(e, StepDone)]
    assert steps == list(range(40)) * 2
    for image in result.images:
        assert all(p.is_file() for p in image.files()) and image.psnr > 25
        w, meta = load_latents(image.latents)
        assert meta["steps_run"] == 40 and meta["generator_sha"] == ws.G.fingerprint()


def test_stop_request_keeps_the_best_so_far(ws, samples, tmp_path):
    stop = threading.Event()

    def emit(event):
        if isinstance(event, StepDone) and event.state.step == 5:
            stop.set()

    job = EmbedJob(samples.images, tmp_path, EmbedOptions(steps=500, loss="mse"), batch_size=2)
    result = embed_files(ws, job, emit, stop)
    assert result.interrupted and result.stopped_at == (6, 1) and len(result.images) == 2
    w, meta = load_latents(result.images[0].latents)
    assert meta["steps_run"] == 6
    with torch.no_grad():
        rerender = ws.G.synthesis(w)
    saved = load_image(result.images[0].recon, TINY.resolution).tensor
    assert (rerender.clamp(-1, 1) - saved).abs().max() <= 1.01 / 127.5


def test_no_readable_input_is_one_error_naming_why(ws, tmp_path):
    (tmp_path / "x.png").write_text("text")
    with pytest.raises(Exception, match=r"none of the 1 inputs could be read \(.*x.png: not a readable image"):
        embed_files(ws, EmbedJob([tmp_path / "x.png"], tmp_path / "out"))


def test_align_files_reports_faces_and_skips_faceless_photos(tmp_path):
    examples = bundled_examples()
    events = []
    result = align_files([examples["astronaut"], examples["coffee"]], tmp_path, size=64, emit=events.append)
    assert [p.name for p in result.written] == ["astronaut.png"] and result.skipped == 1
    faces = {e.path.name: e for e in events if isinstance(e, FacesFound)}
    assert len(faces["astronaut.png"].boxes) == 1 and faces["coffee.png"].boxes == []
    assert any(isinstance(e, Notice) and "coffee.png: no face found" in e.text for e in events)


def test_edit_tasks_on_latent_files(ws, samples, tmp_path):
    w, _ = load_latents(samples.latents)
    a, b = save_latents(tmp_path / "a.npz", w[:1]), save_latents(tmp_path / "b.npz", w[1:])
    mixed = mix_files(ws, a, b, tmp_path / "mix", "0-2")
    assert torch.equal(load_latents(mixed.latents)[0], mix(w[:1], w[1:], [0, 1, 2]))
    morph = morph_files(ws, a, b, tmp_path / "morph", frames=3, sources=EditSources())
    frames, _ = load_latents(morph.latents)
    assert torch.allclose(frames[1], (w[0] + w[1]) / 2) and morph.animation.suffix == ".gif"


def test_workspace_builds_each_loss_once(ws):
    config = EmbedOptions(loss="mse").config()
    assert ws.loss(config) is ws.loss(config) and ws.loss(config).name == "mse"


def test_embed_options_apply_over_the_preset():
    config = EmbedOptions(preset="fast", steps=50).config()
    assert config.steps == 50 and config.early_stop and config.patience == 50
    with pytest.raises(ConfigError, match="unknown preset 'slow'"):
        EmbedOptions(preset="slow").config()


@pytest.mark.parametrize("field,value,message", [
    ("space", "w++", "unknown space 'w++'; choose one of z, w, w+"),
    ("init", "zero", "unknown init 'zero'"),
    ("loss", "l1", "unknown loss 'l1'"),
    ("noise_mode", "loud", "unknown noise_mode 'loud'"),
    ("steps", 0, "steps must be >= 1, got 0"),
    ("lr", -0.1, "lr must be >= 0.0"),
    ("eps", 0.0, "eps must be > 0.0"),
    ("perceptual_resolution", 8, "perceptual_resolution must be >= 16"),
    ("min_improvement", 2.0, "min_improvement must be >= 0.0 and <= 1.0"),
    ("betas", (0.9, 1.0), "betas must be two numbers in [0, 1)"),
])
def test_every_setting_is_checked_with_one_error_type(field, value, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        EmbedConfig(**{field: value})


def test_generator_config_errors_are_config_errors():
    with pytest.raises(ConfigError, match="power of two"):
        GeneratorConfig(resolution=48)
    with pytest.raises(ConfigError, match="w_dim must be at least 1"):
        GeneratorConfig(w_dim=0)
    assert issubclass(ConfigError, ValueError)


def test_loss_by_name_and_history_of_numbers(tiny_G, samples):
    target = load_image(samples.images[0], TINY.resolution).tensor
    result = embed(tiny_G, target, loss="mse", steps=3)
    assert result.loss_name == "mse" and result.warnings == []
    assert set(result.history) == {"loss", "psnr"}
    assert all(isinstance(v, float) for row in result.history["loss"] + result.history["psnr"] for v in row)


def test_non_finite_loss_stops_with_the_best_so_far(samples):
    G = make_generator()  # its own copy: the synthesis is patched below
    real = G.synthesis.forward
    calls = {"n": 0}

    def breaks_at_step_4(ws, **kwargs):
        calls["n"] += 1
        out = real(ws, **kwargs)
        return out * float("nan") if calls["n"] == 5 else out

    G.synthesis.forward = breaks_at_step_4
    target = load_image(samples.images[0], TINY.resolution).tensor
    result = embed(G, target, loss="mse", steps=50)
    assert result.error and "non-finite at step 4" in result.error and result.steps == 4
    assert torch.isfinite(result.latents).all() and torch.allclose(
        result.loss, torch.tensor(result.history["loss"]).min(0).values)
