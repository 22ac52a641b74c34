"""The builders every test shares: catalogs, customers, order payloads, the API client.

Plain functions and classes (no fixtures): `tests/conftest.py` turns them into fixtures,
and tests import them directly where a fixture would only be indirection.
"""

from __future__ import annotations

import itertools
import re
import secrets
import subprocess
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import func, make_url, select
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.apikeys.service import create_api_key
from memberops.catalog.models import Store
from memberops.catalog.service import ItemIn, StoreIn
from memberops.db import new_id, transaction
from memberops.identity.models import IdentityReview
from memberops.labels import service as label_service
from memberops.labels.models import Label
from memberops.members.models import Member, MemberStatus
from memberops.members.service import get_member_or_raise
from memberops.orders.models import Order
from memberops.orders.service import ingest
from memberops.pipeline.models import MemberMetrics
from memberops.privacy import audit
from memberops.privacy.consent import record_consent
from memberops.runtime import Runtime

with warnings.catch_warnings():
    # Starlette asks for httpx2 with a UserWarning subclass, which the project's
    # DeprecationWarning filter does not catch; the httpx client works the same.
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient

__all__ = [
    "ADMIN",
    "ANALYST",
    "ANALYTICS_AS_OF",
    "ANALYTICS_ITEMS",
    "DEFAULT_ITEMS",
    "DEFAULT_STORES",
    "MARKETER",
    "OTHER_STORE",
    "PRICES",
    "SKUS",
    "SPEND_CHAIN",
    "SPEND_CHAIN_AS_OF",
    "STORE",
    "WAITER",
    "Api",
    "Person",
    "TestClient",
    "active_members",
    "add_member",
    "audit_actions",
    "drain_key_writes",
    "dump_database",
    "e164",
    "fan_chain_events",
    "fan_chain_orders",
    "grant_sensitive",
    "load",
    "load_fan_chain",
    "load_spend_chain",
    "make_order",
    "member_actor",
    "member_of",
    "new_card",
    "new_order_id",
    "new_phone",
    "open_reviews",
    "order",
    "person_order_builder",
    "phone_digits",
    "prepare_analytics",
    "spend_chain_orders",
    "staff_note",
    "transactions_at_once",
    "visit_order",
]

# ------------------------------------------------------------------ the default catalog
PRICES = {"BR001": 6800, "BR002": 5800, "MT001": 4800, "VG001": 1200, "DR001": 1500}
DEFAULT_STORES = (
    StoreIn("BJ001", "Beijing Wangfujing", "Beijing", "North", "Asia/Shanghai"),
    StoreIn("SH001", "Shanghai Jing'an", "Shanghai", "East", "Asia/Shanghai"),
)
DEFAULT_ITEMS = (
    ItemIn("BR001", "Spicy broth", "broths", 6800),
    ItemIn("BR002", "Tomato broth", "broths", 5800),
    ItemIn("MT001", "Beef slices", "meats", 4800),
    ItemIn("VG001", "Potato slices", "vegetables", 1200),
    ItemIn("DR001", "Lemon juice", "drinks", 1500),
)


# ------------------------------------------------------------------ one order, by fields
def make_order(
    order_id: str = "1",
    *,
    source: str = "pos",
    store: str = "BJ001",
    at: str = "2026-03-01T18:30:00+08:00",
    customer: dict[str, Any] | None = None,
    lines: list[dict[str, Any]] | None = None,
    discount: int = 0,
    **extra: Any,
) -> dict[str, Any]:
    """One valid POS order with two lines whose total adds up; any field overridable."""
    lines = (
        lines
        if lines is not None
        else [
            {"sku": "BR001", "quantity": 1, "unit_price_cents": 6800, "modifiers": ["No  Onions"]},
            {"sku": "MT001", "quantity": 2, "unit_price_cents": 4800},
        ]
    )
    total = sum(line["quantity"] * line["unit_price_cents"] for line in lines) - discount
    order = {
        "source": source,
        "source_order_id": order_id,
        "channel": extra.pop("channel", "pos"),
        "store_code": store,
        "ordered_at": at,
        "party_size": 2,
        "customer": customer
        if customer is not None
        else {"phone": "13812345678", "phone_verified": True},
        "lines": lines,
        "discount_cents": discount,
        "total_cents": total,
    }
    order.update(extra)
    return order


def drain_key_writes() -> None:
    """Wait for the API's background last-used writes, so none runs after a test closed
    its runtime (it would open a connection on the disposed engine and leak it)."""
    from memberops.api import auth

    auth._touch_writer.submit(lambda: None).result()


def visit_order(
    member: int,
    at: datetime,
    cents: int,
    *,
    store: str = "BJ001",
    order_id: str | None = None,
) -> dict[str, Any]:
    """One dinner order of test member `member` (phone derived from the number) at `at`
    (aware; sent in Beijing time) worth exactly `cents`, for analytics with known values."""
    local = at.astimezone(timezone(timedelta(hours=8)))
    return make_order(
        order_id or f"v{member}-{local:%Y%m%d%H%M}-{store}",
        store=store,
        at=local.isoformat(),
        customer={"phone": f"1375555{member:04d}", "phone_verified": True},
        lines=[{"sku": "BR001", "quantity": 1, "unit_price_cents": cents}],
    )


# A five-member chain with known RFM scores and revenue concentration (tests/rfm, tests/
# concentration): member -> (days from the last visit to SPEND_CHAIN_AS_OF, visits a week
# apart, cents per visit). Member 0's two latest visits and member 3's latest are at
# SH001, every other visit at BJ001.
SPEND_CHAIN_AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
SPEND_CHAIN = {
    0: (2, 5, 10000),
    1: (5, 1, 1500),
    2: (40, 3, 6000),
    3: (200, 4, 8000),
    4: (400, 1, 1000),
}


def spend_chain_orders() -> list[dict[str, Any]]:
    """Every order of the spend chain (dinners at 18:00 Beijing time)."""
    orders = []
    for member, (recency, visits, cents) in SPEND_CHAIN.items():
        for n in range(visits):
            at = SPEND_CHAIN_AS_OF - timedelta(days=recency + 7 * n, hours=14)
            at_sh = (member == 0 and n < 2) or (member == 3 and n == 0)
            orders.append(visit_order(member, at, cents, store="SH001" if at_sh else "BJ001"))
    return orders


def load_spend_chain(runtime: Runtime, actor: Actor) -> dict[int, str]:
    """Ingest the spend chain; returns member number -> member id."""
    orders = spend_chain_orders()
    load(runtime, actor, *orders)
    with transaction(runtime.sessions) as session:
        return {
            int(o["source_order_id"].split("-")[0][1:]): str(
                member_of(session, o["source_order_id"])
            )
            for o in orders
        }


# ------------------------------------------------------------------ customers
PHONE_PREFIX = "139"


def phone_digits(n: int) -> str:
    """The n-th test mobile number: 11 national digits, valid for mainland China."""
    return f"{PHONE_PREFIX}{n:08d}"


def e164(n: int) -> str:
    return f"+86{phone_digits(n)}"


@dataclass(frozen=True)
class Person:
    """One customer the tests send orders for; `n` makes every value unique."""

    n: int

    @property
    def phone(self) -> str:
        return phone_digits(self.n)

    @property
    def phone_e164(self) -> str:
        return e164(self.n)

    @property
    def card(self) -> str:
        return f"HDT{self.n:09d}"

    @property
    def email(self) -> str:
        return f"guest.{self.n}@example.com"

    @property
    def name(self) -> str:
        return f"测试顾客{self.n}"


def person_order_builder() -> Callable[..., dict[str, Any]]:
    """`build(person=None, *, phone=..., card=..., email=..., name=..., quantity=...)`.

    A valid POS order whose total adds up; identifiers default to the person's. Each
    builder numbers its orders from 1.
    """
    counter = itertools.count(1)

    def build(
        person: Person | None = None,
        *,
        phone: str | None = None,
        card: str | None = None,
        email: str | None = None,
        name: str | None = None,
        with_card: bool = True,
        with_email: bool = False,
        quantity: int = 2,
        sku: str = "BR001",
        store_code: str = "BJ001",
        source_order_id: str | None = None,
    ) -> dict[str, Any]:
        customer: dict[str, Any] = {}
        if person is not None:
            phone = phone or person.phone
            card = card or (person.card if with_card else None)
            email = email or (person.email if with_email else None)
            name = name or person.name
        if phone is not None:
            customer.update(phone=phone, phone_verified=True)
        if card is not None:
            customer["card_no"] = card
        if email is not None:
            customer.update(email=email, email_verified=True)
        if name is not None:
            customer["name"] = name
        price = PRICES[sku]
        return {
            "source": "pos",
            "source_order_id": source_order_id or f"priv-{next(counter):06d}",
            "channel": "pos",
            "store_code": store_code,
            "ordered_at": "2025-06-14T19:05:00+08:00",
            "customer": customer,
            "lines": [
                {"sku": sku, "quantity": quantity, "unit_price_cents": price, "modifiers": []}
            ],
            "discount_cents": 0,
            "total_cents": quantity * price,
        }

    return build


# ------------------------------------------------------------------ API payloads and client
STORE = "S001"
OTHER_STORE = "S002"
SKUS = {"HOTPOT-BEEF": 6800, "TEA-JASMINE": 1200}

_counter = itertools.count(1)
# One random prefix per test run, so runs against a kept database never collide.
_RUN = secrets.token_hex(3)


def new_order_id() -> str:
    """A source order id no other test uses."""
    return f"ord-{_RUN}-{next(_counter)}"


def new_phone() -> str:
    """A valid mainland mobile number no other test uses, in a till's spelling."""
    digits = f"{secrets.randbelow(10**8):08d}"
    return f"+86 139 {digits[:4]} {digits[4:]}"


def new_card() -> str:
    """A membership card number no other test uses."""
    return f"CARD{_RUN}{next(_counter):06d}".upper()


def order(
    *,
    source_order_id: str | None = None,
    store_code: str = STORE,
    phone: str | None = None,
    card: str | None = None,
    quantity: int = 2,
    sku: str = "HOTPOT-BEEF",
    **overrides: Any,
) -> dict[str, Any]:
    """One valid POS order (two of one dish), with its total adding up."""
    price = SKUS.get(sku, 1000)
    customer: dict[str, Any] = {}
    if phone is not None:
        customer.update(phone=phone, phone_verified=True)
    if card is not None:
        customer["card_no"] = card
    payload: dict[str, Any] = {
        "source": "pos",
        "source_order_id": source_order_id or new_order_id(),
        "channel": "pos",
        "store_code": store_code,
        "ordered_at": "2025-03-14T19:05:00+08:00",
        "customer": customer,
        "lines": [{"sku": sku, "quantity": quantity, "unit_price_cents": price}],
        "total_cents": quantity * price,
    }
    payload.update(overrides)
    return payload


@dataclass
class Api:
    """A client with one key per role and the calls the tests repeat."""

    runtime: Runtime
    client: TestClient
    secrets_by_role: dict[str, str] = field(default_factory=dict)
    key_ids: dict[str, str] = field(default_factory=dict)

    def key(self, role: str, **scope: Any) -> str:
        """A new key for `role` (optionally bound to a store or a member)."""
        with transaction(self.runtime.sessions) as session:
            row, secret = create_api_key(session, name=f"test {role}", role=role, **scope)
            self.key_ids[secret] = row.id
        return secret

    def auth(self, role_or_secret: str) -> dict[str, str]:
        """Headers for a role's shared key, or for a given secret."""
        if role_or_secret.startswith("mo_"):
            secret = role_or_secret
        else:
            if role_or_secret not in self.secrets_by_role:
                self.secrets_by_role[role_or_secret] = self.key(role_or_secret)
            secret = self.secrets_by_role[role_or_secret]
        return {"Authorization": f"Bearer {secret}"}

    def post_orders(self, body: Any, *, as_: str = "admin") -> Any:
        return self.client.post("/v1/orders", json=body, headers=self.auth(as_))

    def member_id_for(self, query: str) -> str:
        """The one member a front-desk lookup finds (as admin)."""
        response = self.client.get(
            "/v1/members", params={"query": query}, headers=self.auth("admin")
        )
        assert response.status_code == 200, response.text
        members = response.json()["members"]
        assert len(members) == 1, members
        return str(members[0]["id"])

    def audit_entries(self, *, action: str, secret: str | None = None) -> list[Any]:
        actor_id = self.key_ids[secret] if secret else None
        with transaction(self.runtime.sessions) as session:
            return audit.list_entries(session, actions=[action], actor_id=actor_id)


# ------------------------------------------------------------------ raw database bytes
PG_DUMP = "/usr/bin/pg_dump"


def dump_database(database_url: str) -> bytes:
    """Every byte the database holds: the SQLite file and its WAL, or a pg_dump of the schema."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database
        path = Path(url.database)
        parts = [path, path.with_name(path.name + "-wal")]
        return b"".join(p.read_bytes() for p in parts if p.exists())
    options = str(url.query.get("options", ""))
    match = re.search(r"search_path(?:=|%3D)(\w+)", options)
    assert match, f"no schema in {options!r}"
    completed = subprocess.run(
        [
            PG_DUMP,
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            f"--schema={match.group(1)}",
            "--no-owner",
            url.database or "test",
        ],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return completed.stdout


# ---------------------------------------------------------------------------- labels
WAITER = Actor(kind="api_key", id="k-waiter", role="staff", staff_id="w-17", store_code="BJ01")
MARKETER = Actor(kind="api_key", id="k-mkt", role="marketer")
ANALYST = Actor(kind="api_key", id="k-ana", role="analyst")
ADMIN = Actor(kind="cli", id="ops", role="admin")


def member_actor(member_id: str) -> Actor:
    return Actor(kind="api_key", id=f"k-{member_id[-4:]}", role="member", member_id=member_id)


def add_member(session: Session) -> str:
    member = Member(id=new_id())
    session.add(member)
    session.flush()
    return member.id


def grant_sensitive(session: Session, member_id: str) -> str:
    consent = record_consent(
        session,
        member_id=member_id,
        purpose="sensitive_data",
        granted=True,
        channel="app",
        source="settings",
        notice_version="2025-01",
        actor=member_actor(member_id),
    )
    return consent.id


def staff_note(runtime: Runtime, session: Session, member_id: str, text: str, **kw: Any) -> Label:
    return label_service.write_staff_label(
        session,
        runtime.keyring,
        member_id=member_id,
        category=kw.pop("category", "service_need"),
        text=text,
        reason=kw.pop("reason", "guest asked at the table"),
        actor=kw.pop("actor", WAITER),
        **kw,
    )


def audit_actions(session: Session, member_id: str) -> list[str]:
    return [e.action for e in audit.list_entries(session, member_id=member_id)]


# ---------------------------------------------------------------------------- identity
def load(runtime: Runtime, actor: Actor, *orders: dict[str, Any]) -> None:
    with transaction(runtime.sessions) as session:
        ingest(
            session,
            runtime.keyring,
            [(f"record {i}", o) for i, o in enumerate(orders, start=1)],
            actor=actor,
            source_name="test",
            fmt="test",
        )


def member_of(session: Session, source_order_id: str, source: str = "pos") -> str | None:
    member_id = session.scalar(
        select(Order.member_id).where(
            Order.source == source, Order.source_order_id == source_order_id
        )
    )
    return get_member_or_raise(session, member_id).id if member_id else None


def active_members(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Member).where(Member.status == MemberStatus.ACTIVE)
        )
        or 0
    )


def open_reviews(session: Session, kind: str | None = None) -> int:
    stmt = select(func.count()).select_from(IdentityReview).where(IdentityReview.status == "open")
    if kind:
        stmt = stmt.where(IdentityReview.kind == kind)
    return session.scalar(stmt) or 0


# ------------------------------------------------- fans, lifestyles and store mix
# Items beyond the default five that lifestyle traits react to (see the default mapping).
ANALYTICS_ITEMS = (
    ItemIn("KD001", "Kids noodles", "kids", 1200, tags=("kids",)),
    ItemIn("SF006", "Fresh prawns", "seafood", 6800, tags=("seafood", "premium")),
)
ANALYTICS_AS_OF = "2026-06-01T00:00:00+00:00"
FAN_PHONES = {
    "A": "13900000001",
    "B": "13900000002",
    "C": "13900000003",
    "D": "13900000004",
    "E": "13900000005",
}
# What each member orders on every visit (SKU, quantity, unit price).
_FAN_BASKETS = {
    "A": [("BR001", 1, 6800), ("SF006", 1, 6800)],  # premium, seafood lover
    "B": [("BR002", 1, 5800), ("VG001", 1, 1200), ("KD001", 1, 1200)],  # health, family
    "C": [("BR001", 1, 6800), ("MT001", 2, 4800)],  # meat lover
    "D": [("BR001", 1, 6800), ("MT001", 1, 4800)],  # no trait past its threshold
}
# Visit dates (local, 12:00 at UTC+8). A: the 10th and 20th, January to May (6 in the
# 90 days before 1 June, 5 of 5 months): hardcore. B: 2 in the window, 3 of 5 months:
# general. C: none in the window: silent. D: first order before A's referral on 1 March,
# then two after it (15,000 brought in March and April): general.
_FAN_VISITS = {
    "A": [f"2026-{m:02d}-{d:02d}" for m in range(1, 6) for d in (10, 20)],
    "B": ["2026-01-15", "2026-04-15", "2026-05-15"],
    "C": ["2026-01-08", "2026-02-08"],
    "D": ["2026-02-20", "2026-03-05", "2026-04-05"],
}
_FAN_STORES = {"A": "BJ001", "B": "BJ001", "C": "SH001", "D": "SH001"}


def fan_chain_orders() -> list[dict[str, Any]]:
    """The orders of members A-D (see the comments above for what they add up to).

    D's March and April orders are 8,000 and 7,000 net: the March order's lines are
    refunded by 3,600 (a refund is counted net) and April has a 4,600 discount.
    """
    orders = []
    for who, days in _FAN_VISITS.items():
        for i, day in enumerate(days):
            lines = [
                {"sku": sku, "quantity": q, "unit_price_cents": p}
                for sku, q, p in _FAN_BASKETS[who]
            ]
            discount = 4600 if (who, day) == ("D", "2026-04-05") else 0
            orders.append(
                make_order(
                    f"fan-{who}-{i}",
                    store=_FAN_STORES[who],
                    at=f"{day}T12:00:00+08:00",
                    customer={"phone": FAN_PHONES[who], "phone_verified": True},
                    lines=lines,
                    discount=discount,
                )
            )
    orders.append(
        {
            "record_type": "refund",
            "source": "pos",
            "source_refund_id": "fan-refund-1",
            "source_order_id": "fan-D-1",
            "amount_cents": 3600,
            "refunded_at": "2026-03-05T13:00:00+08:00",
        }
    )
    return orders


def fan_chain_events() -> list[dict[str, Any]]:
    """Shares, reviews and referrals: A shares twice, reviews once and refers D on 1 March
    (D then spends 15,000); B reviews once and refers E, who never orders; C refers D on
    1 April (D is A's already: first touch)."""

    def event(n: int, who: str, kind: str, at: str, **extra: Any) -> dict[str, Any]:
        return {
            "record_type": "event",
            "source": "app",
            "source_event_id": f"fan-ev-{n}",
            "type": kind,
            "occurred_at": at,
            "customer": {"phone": FAN_PHONES[who], "phone_verified": True},
            **extra,
        }

    return [
        event(1, "A", "share", "2026-02-01T10:00:00+08:00"),
        event(2, "A", "share", "2026-04-01T10:00:00+08:00"),
        event(3, "A", "review", "2026-04-02T10:00:00+08:00", rating=5),
        event(4, "A", "referral", "2026-03-01T10:00:00+08:00", referred_phone=FAN_PHONES["D"]),
        event(5, "B", "review", "2026-04-16T10:00:00+08:00", rating=4),
        event(6, "B", "referral", "2026-04-16T11:00:00+08:00", referred_phone=FAN_PHONES["E"]),
        event(7, "C", "referral", "2026-04-01T10:00:00+08:00", referred_phone=FAN_PHONES["D"]),
        # After "as of": not counted.
        event(8, "C", "share", "2026-06-02T10:00:00+08:00"),
    ]


def load_fan_chain(runtime: Runtime, actor: Actor) -> dict[str, str]:
    """Catalog extras, orders, then events (events find members by phone); returns the
    member id of A-D."""
    from memberops.catalog.service import upsert_items

    with transaction(runtime.sessions) as session:
        upsert_items(session, ANALYTICS_ITEMS)
    load(runtime, actor, *fan_chain_orders())
    load(runtime, actor, *fan_chain_events())
    with transaction(runtime.sessions) as session:
        ids = {who: member_of(session, f"fan-{who}-0") for who in _FAN_VISITS}
    assert all(ids.values()), ids
    return {who: str(member_id) for who, member_id in ids.items()}


def prepare_analytics(runtime: Runtime, actor: Actor) -> dict[str, str]:
    """The fan chain on the default catalog, with profiles, fan levels and lifestyle
    traits computed as of ANALYTICS_AS_OF; returns the member id of A-D."""
    from datetime import datetime

    from memberops.catalog.service import upsert_items, upsert_stores
    from memberops.fans.service import run_fan_levels
    from memberops.lifestyle.service import run_lifestyle
    from memberops.pipeline.service import refresh_profiles

    with transaction(runtime.sessions) as session:
        upsert_stores(session, DEFAULT_STORES)
        upsert_items(session, DEFAULT_ITEMS)
    ids = load_fan_chain(runtime, actor)
    as_of = datetime.fromisoformat(ANALYTICS_AS_OF)
    with transaction(runtime.sessions) as session:
        refresh_profiles(session, runtime.keyring, full=True)
        run_fan_levels(session, as_of=as_of)
        run_lifestyle(session, as_of=as_of)
    return ids


# ---------------------------------------------------------------------------- segments
def add_segment_member(
    session: Session,
    *,
    visits: int | None = None,
    spend_cents: int = 0,
    last_visit: Any = None,
    store_code: str | None = None,
    tier: str | None = None,
    points: int = 0,
    label_codes: tuple[str, ...] = (),
    consents: tuple[str, ...] = (),
    status: str = MemberStatus.ACTIVE,
) -> str:
    """A member with the data segments read: metrics (when `visits` is given), tier and
    points cache, active computed labels and granted consents."""
    member = Member(id=new_id(), status=status, tier_code=tier, points_balance=points)
    session.add(member)
    session.flush()
    if visits is not None:
        store_id = (
            session.scalar(select(Store.id).where(Store.code == store_code)) if store_code else None
        )
        session.add(
            MemberMetrics(
                member_id=member.id,
                home_store_id=store_id,
                home_store_source="visits",
                spend_cents=spend_cents,
                orders=visits,
                visits=visits,
                first_visit_at=last_visit - timedelta(days=400),
                last_visit_at=last_visit,
                spend_per_person_cents=spend_cents // max(visits, 1),
            )
        )
    for code in label_codes:
        session.add(
            Label(
                member_id=member.id,
                category="preference",
                code=code,
                source="computed",
                created_by="system:test",
            )
        )
    for purpose in consents:
        record_consent(
            session,
            member_id=member.id,
            purpose=purpose,
            granted=True,
            channel="app",
            source="settings",
            notice_version="2025-01",
            actor=member_actor(member.id),
            audit_it=False,
        )
    session.flush()
    return member.id


def transactions_at_once(
    runtime: Runtime, work: Callable[[Session], object], *, threads: int = 3
) -> list[BaseException]:
    """Run `work` in `threads` transactions started together on real threads; the
    errors they raised (none when the work is safe to run concurrently)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with transaction(runtime.sessions) as session:
                work(session)
        except BaseException as exc:  # reported to the caller
            errors.append(exc)

    started = [threading.Thread(target=run) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    return errors
