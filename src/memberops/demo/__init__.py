"""The demo chain: a deterministic simulated restaurant chain, loaded like real data."""

__all__ = [
    "cli",
    "load",
    "menu",
    "simulate",
]
