"""Privacy: encryption and blind indexes, the audit chain and consent (the core), and
the rights over the member store (export, erasure, key rotation)."""

__all__ = [
    "audit",
    "cli",
    "consent",
    "crypto",
    "endpoints",
    "key_records",
    "keys",
    "models",
    "rights",
    "rules",
    "schemas",
]
