"""The exception types users see: each message is a single line naming problem and fix."""


class WplusError(Exception):
    """A user-facing error; the CLI prints `error: <message>` without a traceback."""


class ConfigError(WplusError, ValueError):
    """A setting out of its range or not one of its choices (generator or embedding config)."""
