"""`wplus embed-dataset`: sharding, resume after a kill, and two processes under torchrun."""
import csv
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from PIL import Image

from wplus.app.dataset import Item, read_manifest, shard
from wplus.checkpoints import save_generator
from wplus.io.latents import load_latents

from helpers import make_generator


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("ds")
    gen = str(save_generator(make_generator(), root / "g.safetensors"))
    rng = np.random.default_rng(0)
    names = []
    for i in range(7):
        name = f"img{i}.png"
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(root / name)
        names.append(name)
    (root / "broken.png").write_bytes(b"not an image")
    names.insert(3, "broken.png")
    (root / "manifest.txt").write_text("# images\n" + "\n".join(names) + "\n")
    return root, gen


def _cmd(root, gen, out, steps=3):
    return [sys.executable, "-m", "wplus.cli", "embed-dataset", str(root / "manifest.txt"), "--out", str(out),
            "--generator", gen, "--steps", str(steps), "--loss", "mse", "--batch-size", "2", "--device", "cpu"]


def test_shards_cover_every_item_once():
    items = [Item(i, f"{i}.png") for i in range(11)]
    parts = [shard(items, r, 3) for r in range(3)]
    assert sorted(it.index for p in parts for it in p) == list(range(11))


def test_manifest_errors(tmp_path):
    from wplus.errors import WplusError
    with pytest.raises(WplusError, match="no such manifest"):
        read_manifest(tmp_path / "nope.txt")
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(WplusError, match="lists no images"):
        read_manifest(tmp_path / "empty.txt")


def test_killed_run_resumes_without_redoing_work(dataset, tmp_path):
    root, gen = dataset
    out = tmp_path / "run"
    proc = subprocess.Popen(_cmd(root, gen, out, steps=400), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while len(list((out / "latents").glob("*.npz"))) < 2 and time.time() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {p.name: p.stat().st_mtime_ns for p in (out / "latents").glob("*.npz")}
    assert 2 <= len(before) < 7
    for name in before:
        load_latents(out / "latents" / name)  # every finished file is whole (atomic rename)
    result = subprocess.run(_cmd(root, gen, out, steps=400), capture_output=True, text=True, timeout=600)
    assert result.returncode == 1, result.stderr  # one input failed
    after = {p.name: p.stat().st_mtime_ns for p in (out / "latents").glob("*.npz")}
    assert len(after) == 7 and all(after[n] == t for n, t in before.items())  # not redone


def test_two_processes_under_torchrun(dataset, tmp_path):
    root, gen = dataset
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "wplus.cli", *_cmd(root, gen, out)[3:]]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 1, result.stderr[-2000:]  # broken.png is reported, the rest embedded
    with open(out / "index.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["index"] for r in rows] == [str(i) for i in range(8)]
    status = {r["key"]: r["status"] for r in rows}
    assert status.pop("0000003_broken") == "failed" and set(status.values()) == {"ok"}
    assert "not a readable image" in next(r["reason"] for r in rows if r["status"] == "failed")
    w, meta = load_latents(out / "latents.npz")
    assert w.shape[0] == 7 and len(meta["keys"]) == 7
    one, _ = load_latents(out / "latents" / "0000000_img0.npz")
    assert torch.equal(w[0], one[0])


def test_tune_writes_a_delta_per_image_that_reproduces_its_psnr(dataset, tmp_path):
    from wplus.app import EmbedOptions, ModelOptions, TuneOptions, embed_dataset
    from wplus.app.inputs import load_inputs
    from wplus.checkpoints import load_generator
    from wplus.io.deltas import load_delta
    from wplus.losses import psnr

    root, gen = dataset
    out = tmp_path / "tuned"
    result = embed_dataset(ModelOptions(gen, "cpu"), EmbedOptions(), root / "manifest.txt", out, batch_size=4,
                           tuning=TuneOptions("fast", pivot_steps=5, steps=5, loss="mse"))
    assert result.embedded_total == 7 and result.failed_now == 1
    G = load_generator(gen)
    key = "0000000_img0"
    w, meta = load_latents(out / "latents" / f"{key}.npz")
    assert meta["tune"]["steps"] == 5 and meta["delta"] == f"../deltas/{key}.safetensors"
    tuned = load_delta(out / "deltas" / f"{key}.safetensors").apply(G)
    target = load_inputs([root / "img0.png"], G.resolution)[0][0].tensor
    with np.load(out / "latents" / f"{key}.npz") as data, torch.no_grad():
        assert abs(psnr(tuned.synthesis(w), target).item() - float(data["psnr"][0])) < 1e-4
