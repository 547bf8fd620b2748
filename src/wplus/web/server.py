"""Building and serving the Gradio app."""
from __future__ import annotations

import signal
import socket
import tempfile
from pathlib import Path

import gradio as gr

from ..app import ModelOptions, Workspace, bundled_examples
from ..errors import WplusError
from . import edit_tab, embed_tab, generate_tab, tune_tab
from .context import ServerSettings, WebContext, session_of
from .sessions import Sessions

THEME = dict(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])  # no web fonts
CACHE_SWEEP = (600, 3600)  # every 10 min, delete Gradio's cached files older than an hour


def build_app(ws: Workspace, settings: ServerSettings = ServerSettings(),
              sessions: Sessions | None = None) -> tuple[gr.Blocks, Sessions]:
    """The Blocks app (queue configured) and the sessions store it writes to."""
    sessions = sessions or Sessions(Path(tempfile.mkdtemp(prefix="wplus-web-")))
    web = WebContext(ws, settings, sessions)
    G = ws.G
    with gr.Blocks(title="wplus", analytics_enabled=False, delete_cache=CACHE_SWEEP) as demo:
        gr.Markdown(f"## wplus: embed photos into a StyleGAN and edit them\n"
                    f"Generator: {G.source} ({G.resolution}x{G.resolution}, {G.num_ws} style layers), "
                    f"device {ws.device}. Results stay private to this browser tab and are deleted when it closes.")
        embeddings = gr.State({})  # this session's embedded images: name -> latent file
        with gr.Tabs():
            embed_tab.build(web, embeddings)
            edit_tab.build(web, embeddings)
            tune_tab.build(web)
            generate_tab.build(web)

        def close(request: gr.Request) -> None:
            sessions.close(session_of(request))

        demo.unload(close)
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_size)
    return demo, sessions


def launch_options(settings: ServerSettings, sessions: Sessions) -> dict:
    """Keywords of `Blocks.launch`: offline theme, upload limit, files it may serve."""
    return dict(server_name=settings.host, server_port=settings.port, max_file_size=settings.max_upload_bytes,
                theme=gr.themes.Default(**THEME), footer_links=[], ssr_mode=False, show_error=True,
                allowed_paths=[str(sessions.root), str(next(iter(bundled_examples().values())).parent)])


def check_port(host: str, port: int) -> None:
    """One-line error, before anything loads, when the address cannot be listened on."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.bind((host, port))
    except OSError as exc:
        raise WplusError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); pass another --port "
                         "or --host") from None


def serve(model: ModelOptions, settings: ServerSettings = ServerSettings()) -> None:
    """Load the generator, serve until Ctrl-C or SIGTERM, then delete every session's files."""
    check_port(settings.host, settings.port)
    demo, sessions = build_app(Workspace.open(model), settings)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM: close cleanly, as Ctrl-C
    try:
        demo.launch(**launch_options(settings, sessions))
    finally:
        sessions.close_all()
