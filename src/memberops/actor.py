"""Who is acting: every write and every profile read knows its actor."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CONSOLE_ACTOR_SCOPE", "ROLES", "Actor", "system_actor"]

ROLES = ("admin", "manager", "pos", "staff", "marketer", "analyst", "member", "system")

# The ASGI scope key under which the console passes its signed-in person to an
# in-process /v1 read; only code in this process can put it there, never a client.
CONSOLE_ACTOR_SCOPE = "memberops.console_actor"


@dataclass(frozen=True, slots=True)
class Actor:
    """An API key, a CLI operator, the system itself, or a member acting on their own data."""

    kind: str  # api_key | cli | system | member
    id: str
    role: str
    staff_id: str | None = None
    store_code: str | None = None
    member_id: str | None = None  # set when a member acts on their own data

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.id}"


def system_actor(name: str = "memberops") -> Actor:
    """The actor for work the system does on its own (pipeline, imports from the CLI)."""
    return Actor(kind="system", id=name, role="system")
