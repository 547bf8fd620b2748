"""The web UI in a real browser: Playwright driving Debian's Chromium against `wplus serve`.

Screenshots of each tab go to $WPLUS_SCREENSHOTS when set (`make screenshots` writes
docs/img/web-*.png), else to a temporary folder.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from wplus.app import bundled_examples
from wplus.io.latents import load_latents

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists() and not os.environ.get("WPLUS_REQUIRE_BROWSER"):
    pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it",
                allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
TOAST = "[data-testid=toast-body].error [data-testid=toast-text]"
STATUS = "#embed-status [data-testid=markdown]"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("web")
    port = free_port()
    env = dict(os.environ, GRADIO_TEMP_DIR=str(tmp / "gradio"), TMPDIR=str(tmp), PYTHONUNBUFFERED="1")
    log = open(tmp / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "wplus.cli", "serve", "--port", str(port), "--concurrency", "2",
                             "--max-upload-mb", "1", "--max-steps", "3000"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    start = time.time()
    while True:
        if proc.poll() is not None:
            pytest.fail(f"server exited: {(tmp / 'server.log').read_text()}")
        try:
            if urllib.request.urlopen(url, timeout=1).status == 200:
                break
        except OSError:
            pass
        if time.time() - start > 120:
            proc.kill()
            pytest.fail("server did not start in 120 s")
        time.sleep(0.2)
    yield {"url": url, "tmp": tmp}
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    assert proc.returncode == 0, (tmp / "server.log").read_text()[-3000:]
    assert not list(tmp.glob("wplus-web-*")), "session folders were not removed at shutdown"


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def new_page(browser, server):
    """A fresh browser context (a fresh Gradio session) per page; no request may leave loopback."""
    contexts, seen = [], []

    def make():
        ctx = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 1000})
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("request", lambda r: seen.append(r.url))
        page.goto(server["url"])
        expect(page.locator("#embed-run")).to_be_visible(timeout=30_000)
        return page

    yield make
    for ctx in contexts:
        ctx.close()
    external = [u for u in seen if not u.startswith((server["url"], "data:", "blob:"))]
    assert external == []


def upload(page, selector: str, path: Path) -> None:
    page.locator(f"{selector} input[type=file]").set_input_files(str(path))
    expect(page.locator(f'{selector} a[download="{path.name}"]')).to_be_attached(timeout=15_000)


def clear(page) -> None:
    """Empty the photo upload box."""
    page.locator("#embed-files").get_by_role("button", name="Clear").first.click()


def choose(page, selector: str, option: str) -> None:
    page.locator(f"{selector} input").click()
    page.locator(selector).get_by_role("option", name=option, exact=True).click()
    expect(page.locator(f"{selector} input")).to_have_value(option)


def set_number(page, selector: str, value: int) -> None:
    box = page.locator(f"{selector} input[type=number]")
    box.fill(str(value))
    box.press("Enter")


def embed(page, path: Path, steps: int, align: bool = True) -> None:
    upload(page, "#embed-files", path)
    if not align:
        page.locator("#embed-align input").uncheck()
    set_number(page, "#embed-steps", steps)
    page.locator("#embed-run").click()


def download(page, selector: str, name: str, dest: Path) -> Path:
    with page.expect_download() as d:
        page.locator(f'{selector} a[download="{name}"]').click()
    d.value.save_as(dest / name)
    return dest / name


def test_embed_shows_progress_and_downloads_a_latent(new_page, tmp_path):
    page = new_page()
    embed(page, bundled_examples()["astronaut"], steps=300)
    updates = set()
    start = time.time()
    while time.time() - start < 120:
        text = page.locator(STATUS).inner_text().strip()
        if text.startswith("Embedding"):
            updates.add(re.search(r"step \d+/\d+", text).group(0))
        if text.startswith("Done"):
            break
        time.sleep(0.05)
    assert len(updates) >= 2, updates
    expect(page.locator(STATUS)).to_contain_text("Done: 1 image(s) in W+", timeout=60_000)
    expect(page.locator("#embed-faces img").first).to_be_visible()  # the photo with its face box
    expect(page.locator("#embed-preview img")).to_be_visible()
    expect(page.locator("#embed-results img").first).to_be_visible()
    w, meta = load_latents(download(page, "#embed-downloads", "astronaut.npz", tmp_path))
    assert w.shape == (1, 10, 256) and meta["config"]["steps"] == 300 and meta["source"].endswith("astronaut.png")
    psnr = float(re.search(r"mean PSNR ([\d.]+) dB", page.locator(STATUS).inner_text()).group(1))
    with np.load(tmp_path / "astronaut.npz") as data:
        assert abs(float(data["psnr"][0]) - psnr) < 0.01 and psnr > 18


def test_bad_uploads_show_an_error_and_the_app_keeps_serving(new_page, tmp_path):
    page = new_page()
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    embed(page, bad, steps=20)
    expect(page.locator(TOAST)).to_contain_text("none of the 1 inputs could be aligned")
    assert "/tmp" not in page.locator(TOAST).inner_text()
    expect(page.locator(TOAST)).to_contain_text("notes.png: not a readable image")
    for name, size, message in [("large.png", (8000, 6000), "large.png is 8000x6000 pixels; the limit here is 40"),
                                ("bomb.png", (20000, 20000), "bomb.png declares a huge size")]:
        Image.new("1", size).save(tmp_path / name)  # many pixels in a small file
        clear(page)
        embed(page, tmp_path / name, steps=20)
        expect(page.locator(TOAST).filter(has_text=message)).to_be_visible()
    clear(page)
    embed(page, bundled_examples()["coffee"], steps=20)  # align on, no face in it
    expect(page.locator(TOAST).filter(has_text="coffee.png: no face found")).to_be_visible()
    big = tmp_path / "big.png"
    big.write_bytes(os.urandom(2_000_000))  # over the server's 1 MB limit
    page.locator("#embed-files input[type=file]").set_input_files(str(big))
    expect(page.locator("[data-testid=toast-text]").filter(has_text="exceed the maximum allowed size")).to_be_visible()
    clear(page)
    embed(page, bundled_examples()["astronaut"], steps=20)
    expect(page.locator(STATUS)).to_contain_text("Done: 1 image(s)", timeout=60_000)


def test_stop_keeps_the_best_result(new_page, tmp_path):
    page = new_page()
    embed(page, bundled_examples()["astronaut"], steps=3000)
    expect(page.locator(STATUS)).to_contain_text(re.compile(r"step (\d{2,4})/3000"), timeout=60_000)
    page.locator("#embed-stop").click()
    expect(page.locator(STATUS)).to_contain_text("Stopped at step", timeout=30_000)
    steps = int(re.search(r"Stopped at step (\d+)", page.locator(STATUS).inner_text()).group(1))
    assert 10 <= steps < 3000
    w, meta = load_latents(download(page, "#embed-downloads", "astronaut.npz", tmp_path))
    assert meta["steps_run"] == steps and w.shape == (1, 10, 256)


def test_two_sessions_embed_at_once_with_their_own_results(new_page, tmp_path):
    pages = [new_page(), new_page()]
    photos = [bundled_examples()["astronaut"], bundled_examples()["chelsea"]]
    for page, photo in zip(pages, photos):
        embed(page, photo, steps=200, align=photo.stem == "astronaut")
    for page in pages:
        expect(page.locator(STATUS)).to_contain_text("Done: 1 image(s)", timeout=120_000)
    for i, (page, photo) in enumerate(zip(pages, photos)):
        names = page.locator("#embed-downloads a[download]").evaluate_all("links => links.map(a => a.download)")
        assert f"{photo.stem}.npz" in names and not any(p.stem in " ".join(names) for p in photos if p != photo)
        folder = tmp_path / str(i)
        folder.mkdir()
        _, meta = load_latents(download(page, "#embed-downloads", f"{photo.stem}.npz", folder))
        assert meta["source"].endswith(photo.name)


def test_edit_and_generate_tabs_with_screenshots(new_page, tmp_path):
    shots = Path(os.environ.get("WPLUS_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page = new_page()
    embed(page, bundled_examples()["astronaut"], steps=200)
    expect(page.locator(STATUS)).to_contain_text("Done", timeout=60_000)
    page.screenshot(path=str(shots / "web-embed.png"), full_page=True)

    page.get_by_role("tab", name="Edit").click()
    set_number(page, "#edit-steps", 50)
    choose(page, "#mix-content-pick", "yours: astronaut")  # the embedding just made
    choose(page, "#mix-style-pick", "example: chelsea")  # an image, embedded on the way
    page.locator("#mix-run").click()
    expect(page.locator("#mix-out img")).to_be_visible(timeout=60_000)
    w, meta = load_latents(download(page, "#mix-downloads", "mix.npz", tmp_path))
    assert w.shape == (1, 10, 256) and meta["layers"] == [0, 1, 2, 3] and meta["content"].endswith("astronaut.npz")
    page.screenshot(path=str(shots / "web-edit.png"), full_page=True)

    page.get_by_role("tab", name="Semantic (directions)").click()
    choose(page, "#semantic-input-pick", "yours: astronaut")
    expect(page.locator("#semantic-name0 input")).to_have_value("yaw")  # the shipped labelled directions
    choose(page, "#semantic-name0", "smile")
    set_number(page, "#semantic-strength0", 2)
    page.locator("#semantic-run").click()
    expect(page.locator("#semantic-out img")).to_be_visible(timeout=60_000)
    w, meta = load_latents(download(page, "#semantic-downloads", "edit.npz", tmp_path))
    assert meta["directions"] == [["smile", 2.0]] and w.shape == (1, 10, 256)
    page.screenshot(path=str(shots / "web-semantic.png"), full_page=True)

    page.get_by_role("tab", name="Generate").click()
    page.locator("#generate-seeds textarea, #generate-seeds input").first.fill("0-3")
    page.locator("#generate-run").click()
    expect(page.locator("#generate-gallery img")).to_have_count(4, timeout=30_000)
    w, meta = load_latents(download(page, "#generate-downloads", "seeds.npz", tmp_path))
    assert w.shape == (4, 10, 256) and meta["seeds"] == [0, 1, 2, 3]
    page.screenshot(path=str(shots / "web-generate.png"), full_page=True)
    assert all((shots / f"web-{tab}.png").stat().st_size > 10_000 for tab in ("embed", "edit", "generate"))


def test_tune_tab_downloads_a_delta_that_reproduces_the_render_with_screenshots(new_page, tmp_path):
    import torch

    from wplus import load_delta, load_generator
    shots = Path(os.environ.get("WPLUS_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page = new_page()
    page.get_by_role("tab", name="Tune (PTI)").click()
    upload(page, "#tune-files", bundled_examples()["astronaut"])
    page.locator("#tune-preset").get_by_label("fast").check()
    expect(page.locator("#tune-steps input[type=number]")).to_have_value("150")  # the preset's, set first
    set_number(page, "#tune-steps", 40)
    expect(page.locator("#tune-steps input[type=number]")).to_have_value("40")
    page.locator("#tune-run").click()
    status = page.locator("#tune-status [data-testid=markdown]")
    expect(status).to_contain_text("Done: 1 photo(s) tuned", timeout=120_000)
    assert re.search(r"astronaut: [\d.]+ dB \(pivot\) -> [\d.]+ dB \(tuned\)", status.inner_text())
    page.screenshot(path=str(shots / "web-tune.png"), full_page=True)
    delta = load_delta(download(page, "#tune-downloads", "astronaut_delta.safetensors", tmp_path))
    w, meta = load_latents(download(page, "#tune-downloads", "astronaut.npz", tmp_path))
    recon = np.asarray(Image.open(download(page, "#tune-downloads", "astronaut_recon.png", tmp_path)), np.float32)
    assert meta["tune"]["steps"] == 40 and delta.meta["steps"] == 40
    with torch.no_grad():
        render = delta.apply(load_generator()).synthesis(w).clamp(-1, 1)[0].permute(1, 2, 0).numpy()
    assert np.abs((render + 1) * 127.5 - recon).max() <= 1.01


def test_serve_without_gradio_is_a_one_line_error(tmp_path):
    if shutil.which("true") is None:
        pytest.skip("no shell tools")
    code = ("import sys, builtins\n"
            "real = builtins.__import__\n"
            "def fake(name, *a, **k):\n"
            "    if name == 'gradio' or name.startswith('gradio.'):\n"
            "        raise ImportError('no gradio', name='gradio')\n"
            "    return real(name, *a, **k)\n"
            "builtins.__import__ = fake\n"
            "from wplus.cli import main\n"
            "sys.exit(main(['serve']))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "pip install 'wplus[web]'" in proc.stderr and "Traceback" not in proc.stderr
