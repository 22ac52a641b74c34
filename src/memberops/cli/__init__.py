"""The command line: the root app and what every command shares. Each capability's
commands live in its own `cli.py`."""

__all__ = [
    "common",
    "main",
]
