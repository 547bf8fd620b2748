"""The one exception type users see: its message is a single line naming problem and fix."""


class WplusError(Exception):
    """A user-facing error; the CLI prints `error: <message>` without a traceback."""
