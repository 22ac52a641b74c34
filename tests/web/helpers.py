"""Helpers for console tests: a browser-like client that signs in through the real form."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

from memberops.runtime import Runtime

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient

__all__ = ["CSRF", "PASSWORD", "Console", "TestClient"]

PASSWORD = "long enough secret"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Console:
    """A signed-in (or not yet) browser session against the console."""

    client: TestClient
    runtime: Runtime

    def csrf(self, path: str = "/desk") -> str:
        match = CSRF.search(self.client.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def sign_in(self, username: str, password: str = PASSWORD) -> object:
        token = CSRF.search(self.client.get("/signin").text)
        assert token
        return self.client.post(
            "/signin",
            data={
                "csrf": token.group(1),
                "method": "password",
                "username": username,
                "password": password,
            },
            follow_redirects=False,
        )

    def sign_in_key(self, secret: str) -> object:
        token = CSRF.search(self.client.get("/signin").text)
        assert token
        return self.client.post(
            "/signin",
            data={"csrf": token.group(1), "method": "key", "api_key": secret},
            follow_redirects=False,
        )
