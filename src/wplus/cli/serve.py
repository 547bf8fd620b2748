"""`wplus serve`: the browser UI (Gradio), on this machine by default."""
from __future__ import annotations

import argparse

from ..errors import WplusError
from .options import add_model_options, model_options


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="start the web UI (needs the extra: pip install 'wplus[web]')")
    add_model_options(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 = every interface)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--max-upload-mb", type=float, default=20.0, help="largest upload accepted, in MB")
    p.add_argument("--max-steps", type=int, default=5000, help="most optimisation steps a user may ask for")
    p.add_argument("--concurrency", type=int, default=1, help="embeddings run at once on the device")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        from ..web import ServerSettings, serve
    except ImportError as exc:
        raise WplusError(f"the web UI needs Gradio ({exc.name} is missing): pip install 'wplus[web]'") from None
    serve(model_options(args), ServerSettings(args.host, args.port, int(args.max_upload_mb * 1e6), args.max_steps,
                                              args.concurrency))
    return 0
