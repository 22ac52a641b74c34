"""Labels: what staff may record about a member, screened before it is stored."""

from memberops.labels.guard import Screening, Span, Verdict, screen

__all__ = ["Screening", "Span", "Verdict", "screen"]
