"""`wplus` end to end on a tiny generator written to disk."""
import socket

import numpy as np
import pytest
import torch
from PIL import Image

from wplus.checkpoints import load_generator, save_generator
from wplus.cli import main, parse_seeds
from wplus.io.images import load_image
from wplus.io.latents import load_latents

from helpers import make_generator


@pytest.fixture(scope="module")
def gen_file(tmp_path_factory):
    return str(save_generator(make_generator(), tmp_path_factory.mktemp("g") / "tiny.safetensors"))


def test_generate_then_embed_round_trip(gen_file, tmp_path, capsys):
    assert main(["generate", "--generator", gen_file, "--seeds", "0-1", "--out", str(tmp_path / "gen")]) == 0
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for name in ("seed0000.png", "seed0001.png"):
        (inputs / name).write_bytes((tmp_path / "gen" / name).read_bytes())
    (inputs / "corrupt.png").write_bytes((inputs / "seed0000.png").read_bytes()[:100])
    (inputs / "empty.jpg").write_bytes(b"")
    (inputs / "notes.png").write_text("just text")
    huge = inputs / "huge.png"
    Image.new("1", (20000, 20000)).save(huge)
    out = tmp_path / "out"
    code = main(["embed", str(inputs), "--generator", gen_file, "--steps", "150", "--loss", "mse",
                 "--batch-size", "2", "--out", str(out), "--video"])
    err = capsys.readouterr().err
    assert code == 1  # some inputs skipped
    for bad, why in [("corrupt.png", "corrupt"), ("empty.jpg", "empty"), ("notes.png", "not a readable"),
                     ("huge.png", "too large")]:
        line = next(line for line in err.splitlines() if bad in line)
        assert line.startswith("skipped:") and why in line
    assert "Traceback" not in err

    G = load_generator(gen_file)
    for stem in ("seed0000", "seed0001"):
        w, meta = load_latents(out / f"{stem}.npz")
        assert w.shape == (1, G.num_ws, G.w_dim) and w.dtype == torch.float32
        assert meta["config"]["space"] == "w+" and meta["generator_sha"] == G.fingerprint()
        with np.load(out / f"{stem}.npz") as data:
            assert data["psnr"][0] > 25  # own samples (8-bit quantised) reconstruct well
        with torch.no_grad():
            rerender = G.synthesis(w)
        saved = load_image(out / f"{stem}_recon.png", G.resolution).tensor
        assert (rerender.clamp(-1, 1) - saved).abs().max() <= 1.01 / 127.5  # 8-bit rounding
        assert Image.open(out / f"{stem}_compare.png").size == (2 * G.resolution, G.resolution)
        assert (out / f"{stem}.mp4").stat().st_size > 1000


def test_all_inputs_bad_is_an_error(gen_file, tmp_path, capsys):
    (tmp_path / "x.png").write_text("nope")
    assert main(["embed", str(tmp_path / "x.png"), "--generator", gen_file, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "error: none of the 1 inputs could be read" in err


@pytest.mark.parametrize("args,message", [
    (["embed", "x.png", "--generator", "missing.pkl"], "no such generator file"),
    (["embed", "nothing-here"], "no such file"),
    (["generate", "--seeds", "a-b"], "bad --seeds"),
    (["embed", "x.png", "--batch-size", "0"], "--batch-size must be at least 1"),
])
def test_bad_arguments_one_line(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(args)
    err = capsys.readouterr().err.strip()
    assert code == 2  # every one of these is an error, the missing input too (no readable input at all)
    assert message in err and "Traceback" not in err


def test_info(gen_file, capsys):
    assert main(["info", gen_file]) == 0
    out = capsys.readouterr().out
    assert "32x32" in out and "num_ws:      8" in out


def test_parse_seeds():
    assert parse_seeds("0-2,7") == [0, 1, 2, 7]


def test_ctrl_c_saves_finished_and_current_batches(gen_file, tmp_path, monkeypatch, capsys):
    from wplus.cli.progress import ConsoleProgress
    inputs = tmp_path / "in"
    assert main(["generate", "--generator", gen_file, "--seeds", "0-2", "--out", str(inputs)]) == 0
    (inputs / "grid.png").unlink()
    calls = {"n": 0}

    def on_step(self, event):
        calls["n"] += 1
        if calls["n"] == 25:  # batch 1 (2 images, 20 steps) done, batch 2 at its 5th step
            raise KeyboardInterrupt

    monkeypatch.setattr(ConsoleProgress, "on_step", on_step)
    code = main(["embed", str(inputs), "--generator", gen_file, "--steps", "20", "--loss", "mse",
                 "--batch-size", "2", "--out", str(tmp_path / "out")])
    assert code == 130 and "interrupted at step 5 of batch 2" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").glob("*.npz")) == ["seed0000.npz", "seed0001.npz", "seed0002.npz"]


def test_serve_on_a_busy_port_is_a_one_line_error(capsys):
    pytest.importorskip("gradio")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err and "Traceback" not in err
