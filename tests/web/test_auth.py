"""Sign-in: scrypt passwords, API keys, session cookies, CSRF on every form, sign-out."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from memberops.cli.main import app
from memberops.clock import FixedClock, use_clock
from memberops.db import transaction, utcnow
from memberops.errors import Conflict, ValidationError
from memberops.web.auth import (
    SESSION_HOURS,
    create_staff_account,
    hash_password,
    session_actor,
    sign_in_with_password,
    verify_password,
)
from memberops.web.models import ConsoleSession, StaffAccount
from web.helpers import PASSWORD, Console, TestClient


def test_password_is_stored_as_salted_scrypt() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("scrypt$16384$8$1$") and first != second
    assert verify_password("correct horse", first)
    assert not verify_password("correct horsE", first)
    assert not verify_password("x", "md5$abc")


def test_account_rules(seeded) -> None:  # type: ignore[no-untyped-def]
    with transaction(seeded.sessions) as session:
        with pytest.raises(ValidationError, match="password"):
            create_staff_account(session, username="li", password="short", role="staff")
        with pytest.raises(ValidationError, match="role"):
            create_staff_account(session, username="li", password=PASSWORD, role="member")
        with pytest.raises(ValidationError, match="username"):
            create_staff_account(session, username="Li Lei!", password=PASSWORD, role="staff")
        create_staff_account(session, username="li", password=PASSWORD, role="staff")
        with pytest.raises(Conflict):
            create_staff_account(session, username="LI", password=PASSWORD, role="staff")
        stored = session.scalar(select(StaffAccount.password_hash))
        assert stored is not None and PASSWORD not in stored


def test_sign_in_sets_a_strict_httponly_cookie(console: Console) -> None:
    response = console.sign_in("staff1")
    assert response.status_code == 303  # type: ignore[attr-defined]
    cookie = response.headers["set-cookie"]  # type: ignore[attr-defined]
    assert "mo_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie.split("mo_presign")[0]  # plain http on 127.0.0.1
    assert console.client.get("/desk").status_code == 200


def test_cookie_is_secure_over_tls(seeded, accounts) -> None:  # type: ignore[no-untyped-def]
    from memberops.api.app import create_app

    with TestClient(create_app(seeded), base_url="https://console.example") as client:
        console = Console(client, seeded)
        cookie = console.sign_in("staff1").headers["set-cookie"]  # type: ignore[attr-defined]
    assert "Secure" in cookie.split("mo_presign")[0]


def test_wrong_password_and_unknown_user_look_the_same(console: Console) -> None:
    wrong = console.sign_in("staff1", "not the password")
    unknown = console.sign_in("nobody", "not the password")
    assert wrong.headers["location"] == unknown.headers["location"] == "/signin?failed=1"  # type: ignore[attr-defined]
    assert console.client.get("/desk", follow_redirects=False).headers["location"] == "/signin"


def test_sign_in_form_needs_its_csrf_token(console: Console) -> None:
    response = console.client.post(
        "/signin",
        data={"csrf": "forged", "username": "staff1", "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/signin?failed=1"


def test_api_key_signs_in_with_its_role_and_store(
    console: Console, api_key: Callable[..., str]
) -> None:
    assert console.sign_in_key(api_key("staff", store="BJ001")).status_code == 303  # type: ignore[attr-defined]
    page = console.client.get("/desk").text
    assert "BJ001" in page
    assert console.client.get("/members").status_code == 403  # staff may not list members


def test_member_keys_do_not_sign_in_to_the_console(
    console: Console, api_key: Callable[..., str], member: str
) -> None:
    response = console.sign_in_key(api_key("member", member_id=member))
    assert response.headers["location"] == "/signin?failed=1"  # type: ignore[attr-defined]


def test_forms_without_the_session_csrf_token_are_refused(console: Console, member: str) -> None:
    console.sign_in("staff1")
    response = console.client.post(
        f"/desk/member/{member}/needs", data={"csrf": "x", "text": "no onions"}
    )
    assert response.status_code == 403
    screen = console.client.post("/console/screen", json={"text": "no onions"})
    assert screen.status_code == 403


def test_sign_out_ends_the_session_at_once(console: Console) -> None:
    console.sign_in("staff1")
    cookie = console.client.cookies.get("mo_session")
    assert cookie
    console.client.post("/signout", data={"csrf": console.csrf()})
    console.client.cookies.set("mo_session", cookie)  # a copied cookie no longer works
    assert console.client.get("/desk", follow_redirects=False).status_code == 303


def test_sessions_expire_after_a_shift(console: Console) -> None:
    console.sign_in("staff1")
    token = console.client.cookies.get("mo_session")
    assert token
    with transaction(console.runtime.sessions) as session:
        assert session_actor(session, token) is not None
        with use_clock(FixedClock(utcnow() + timedelta(hours=SESSION_HOURS, minutes=1))):
            assert session_actor(session, token) is None


def test_disabled_account_loses_its_session(console: Console) -> None:
    console.sign_in("staff1")
    with transaction(console.runtime.sessions) as session:
        account = session.scalar(select(StaffAccount).where(StaffAccount.username == "staff1"))
        assert account is not None
        account.disabled_at = utcnow()
        assert sign_in_with_password(session, "staff1", PASSWORD) is None
    assert console.client.get("/desk", follow_redirects=False).status_code == 303


def test_only_the_token_digest_is_stored(console: Console) -> None:
    console.sign_in("staff1")
    token = console.client.cookies.get("mo_session")
    with transaction(console.runtime.sessions) as session:
        digests = list(session.scalars(select(ConsoleSession.token_sha256)))
    assert token not in digests and all(re.fullmatch(r"[0-9a-f]{64}", d) for d in digests)


def test_staff_create_command(seeded, cli_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    args = ["staff", "create", "zhang.wei", "--role", "staff", "--store", "BJ001"]
    short = runner.invoke(app, [*args, "--password-stdin"], input="short\n", env=cli_env)
    assert short.exit_code != 0 and "password" in short.output
    made = runner.invoke(
        app, [*args, "--password-stdin", "--json"], input=PASSWORD + "\n", env=cli_env
    )
    assert made.exit_code == 0, made.output
    with transaction(seeded.sessions) as session:
        assert sign_in_with_password(session, "zhang.wei", PASSWORD) is not None
    listed = runner.invoke(app, ["staff", "list", "--json"], env=cli_env)
    assert '"zhang.wei"' in listed.output and PASSWORD not in listed.output
