"""Logging that cannot be used for log injection (CWE-117).

Control characters (CR, LF, ESC...) in anything that reaches a log line are escaped, so
a crafted value cannot forge a second log entry or a terminal escape sequence.
"""

from __future__ import annotations

import logging
import re

__all__ = ["NeutralisingFormatter", "configure_logging", "neutralise"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def neutralise(text: str) -> str:
    """Escape control characters: 'a\\nb' -> 'a\\\\x0ab'."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class NeutralisingFormatter(logging.Formatter):
    """Formats as usual, then escapes control characters in the whole line."""

    def format(self, record: logging.LogRecord) -> str:
        return neutralise(super().format(record))


def configure_logging(level: int = logging.INFO) -> None:
    """Install the neutralising formatter on the root handler."""
    handler = logging.StreamHandler()
    handler.setFormatter(NeutralisingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
