"""The default-model trainer: resume after a kill continues exactly where it stopped."""
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from wplus.training.dcgan import DCGANGenerator
from wplus.training.default_model import TrainConfig, Trainer

TINY_WIDTHS = {"channel_base": 128, "channel_max": 16, "w_dim": 32}
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train_default.py"


@pytest.fixture(scope="module")
def teacher_file(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("teacher") / "weights.tar"
    torch.save({"netG_state_dict": DCGANGenerator().state_dict()}, path)
    return str(path)


def _config(teacher: str, out: Path, steps: int) -> TrainConfig:
    cfg = TrainConfig(teacher=teacher, out=str(out), batch=4, max_steps=steps, checkpoint_minutes=0.0,
                      sample_every=1000, d_channels=16, r1_every=2, adv_every=2)
    cfg.generator.update(TINY_WIDTHS)
    return cfg


def _flat(state):
    out = {}
    for key, value in state.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in _flat(value).items()})
        elif isinstance(value, torch.Tensor):
            out[key] = value
    return out


def test_resume_is_bit_identical(teacher_file, tmp_path):
    straight = Trainer(_config(teacher_file, tmp_path / "a", 6))
    straight.run()
    first = Trainer(_config(teacher_file, tmp_path / "b", 3))
    first.run()
    second = Trainer(_config(teacher_file, tmp_path / "b", 6))
    assert second.resume() and second.step == 3
    second.run()
    a, b = _flat(straight.state()), _flat(second.state())
    assert a.keys() == b.keys() and len(a) > 50
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert "opt_g.state.0.exp_avg" in a and second.step == 6
    rows = (tmp_path / "b" / "log.csv").read_text().splitlines()
    assert rows[0].startswith("step,") and rows[-1].startswith("6,")


def test_killed_run_resumes_from_its_checkpoint(teacher_file, tmp_path):
    out = tmp_path / "run"
    args = [sys.executable, str(SCRIPT), "--teacher", teacher_file, "--out", str(out), "--batch", "4",
            "--d-channels", "16", "--checkpoint-minutes", "0", "--max-steps", "100000",
            "--widths", "128,16"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not (out / "checkpoint.pt").exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    saved = torch.load(out / "checkpoint.pt", weights_only=True)  # atomic writes: never torn
    step = int(saved["step"])
    assert step >= 1
    cfg = TrainConfig(teacher=teacher_file, out=str(out), batch=4, d_channels=16,
                      checkpoint_minutes=0.0, max_steps=step + 2)
    cfg.generator.update(channel_base=128, channel_max=16)
    trainer = Trainer(cfg)
    assert trainer.resume() and trainer.step == step
    for key, value in _flat(saved["opt_g"]).items():
        assert torch.equal(_flat(trainer.opt_g.state_dict())[key], value), key
    trainer.run()
    assert trainer.step == step + 2


def test_changed_settings_refuse_to_resume(teacher_file, tmp_path):
    Trainer(_config(teacher_file, tmp_path, 1)).run()
    cfg = _config(teacher_file, tmp_path, 2)
    cfg.lr_g = 0.1
    from wplus.errors import WplusError
    with pytest.raises(WplusError, match="lr_g"):
        Trainer(cfg).resume()


def test_export_ships_a_checksummed_fp16_default(teacher_file, tmp_path, monkeypatch):
    from wplus import load_generator
    from wplus.errors import WplusError
    from wplus.models import registry
    from wplus.training.export import export_default
    trainer = Trainer(_config(teacher_file, tmp_path / "run", 2))
    trainer.run()
    dest = export_default(trainer.checkpoint_path, tmp_path / "weights")
    monkeypatch.setattr(registry, "weights_dir", lambda: tmp_path / "weights")
    G = load_generator()
    assert G.source.startswith("default: default.safetensors")
    z = torch.randn(2, G.z_dim)
    with torch.no_grad():
        ref = trainer.G_ema.half().float()(z)  # the shipped weights are fp16
        assert torch.allclose(G(z), ref, atol=1e-3)
    data = bytearray(dest.read_bytes())
    data[-10] ^= 0xFF
    dest.write_bytes(bytes(data))
    with pytest.raises(WplusError, match="default.safetensors: checksum mismatch"):
        load_generator()
    dest.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(WplusError, match="checksum mismatch"):
        load_generator()


def test_frechet_distance_matches_the_closed_form():
    import numpy as np

    from wplus.training.report import frechet_distance
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20000, 3))
    b = rng.normal(size=(20000, 3)) * 2 + np.array([1.0, 0.0, 0.0])
    # N(0, I) vs N(m, 4I): |m|^2 + tr(I + 4I - 2 * 2I) = 1 + 3
    assert abs(frechet_distance(a, b) - 4.0) < 0.1
    assert frechet_distance(a, a) < 1e-6


def test_sigterm_saves_and_exits(teacher_file, tmp_path):
    out = tmp_path / "run"
    args = [sys.executable, str(SCRIPT), "--teacher", teacher_file, "--out", str(out), "--batch", "4",
            "--d-channels", "16", "--checkpoint-minutes", "1000", "--max-steps", "100000", "--widths", "128,16"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    log = out / "log.csv"
    while not (log.exists() and len(log.read_text().splitlines()) > 1) and time.time() < deadline:
        time.sleep(0.2)  # until the first 20 steps are logged
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    saved = torch.load(out / "checkpoint.pt", weights_only=True)
    assert int(saved["step"]) >= 1  # no periodic checkpoint was due: this one came from SIGTERM
