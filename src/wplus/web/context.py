"""What every tab's handlers share: the workspace, the server settings and the sessions."""
from __future__ import annotations

import functools
import inspect
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import gradio as gr
from PIL import Image

from ..app import Workspace
from ..errors import WplusError
from .sessions import Sessions
from .uploads import check_pixels, public, upload_paths


@dataclass(frozen=True)
class ServerSettings:
    """How `wplus serve` listens and what it accepts."""

    host: str = "127.0.0.1"  # 0.0.0.0 to serve other machines
    port: int = 7860
    max_upload_bytes: int = 20_000_000  # per file
    max_steps: int = 5000  # most optimisation steps a user may ask for
    concurrency: int = 1  # tasks running at once on the device (others wait in the queue)
    max_pixels: int = 40_000_000  # largest declared image size accepted
    queue_size: int = 32  # waiting tasks beyond which new ones are refused


@dataclass
class WebContext:
    ws: Workspace
    settings: ServerSettings
    sessions: Sessions

    def compute(self) -> dict:
        """Event options of every handler that runs on the device: one shared queue slot pool."""
        return {"concurrency_limit": self.settings.concurrency, "concurrency_id": "device"}

    def start_run(self, files, request: gr.Request, kind: str) -> tuple[list[Path], Path, threading.Event]:
        """A run on uploaded photos: (their paths, a fresh output folder, the session's cleared
        stop flag); a page error when nothing was uploaded or an image is too large."""
        paths = upload_paths(files)
        if not paths:
            raise gr.Error("Upload at least one photo (or pick the example) first.")
        check_pixels(paths, self.settings.max_pixels)
        session = session_of(request)
        stop = self.sessions.stop_flag(session)
        stop.clear()
        return paths, self.sessions.run_folder(session, kind), stop

    def stop_run(self, request: gr.Request) -> None:
        """The Stop button: ends the session's run (its best results so far are written)."""
        self.sessions.stop_flag(session_of(request)).set()


def user_errors(fn: Callable) -> Callable:
    """Show a `WplusError` as the page's error message (one line, no server paths) instead
    of a server error; works for plain handlers and for generators (live updates)."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except WplusError as exc:
                raise gr.Error(public(str(exc))) from None
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except WplusError as exc:
            raise gr.Error(public(str(exc))) from None
    return wrapper


def in_background(task: Callable[[Callable], object], stop: threading.Event) -> Iterator[tuple[str, object]]:
    """Run `task(emit)` in a thread; yield ('event', e) for each event it emits, then
    ('done', result) or ('failed', exception). Leaving early sets `stop`."""
    events: queue.Queue = queue.Queue()

    def work() -> None:
        try:
            events.put(("done", task(lambda e: events.put(("event", e)))))
        except BaseException as exc:  # handed to the page, not lost in the thread
            events.put(("failed", exc))

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        while True:
            kind, value = events.get()
            yield kind, value
            if kind != "event":
                return
    finally:
        stop.set()  # the page went away: end the run (its best results are still written)
        thread.join()


def session_of(request: gr.Request) -> str:
    return request.session_hash or "anonymous"


def file_list(paths: list[Path]) -> list[str]:
    return [str(p) for p in paths]


def enlarged(*paths: Path, height: int = 256) -> Image.Image:
    """Small result figures scaled up (nearest neighbour, whole factors) to about `height`
    px each and stacked top to bottom, for the page."""
    rows = []
    for path in paths:
        image = Image.open(path).convert("RGB")
        scale = max(1, height // image.height)
        rows.append(image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST))
    sheet = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows)), "white")
    for k, row in enumerate(rows):
        sheet.paste(row, (0, sum(r.height for r in rows[:k])))
    return sheet
