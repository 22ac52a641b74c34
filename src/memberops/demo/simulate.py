"""A deterministic simulated hot-pot restaurant chain.

`DemoChain` streams the records a real chain would send (orders from POS,
app and mini-program, refunds, engagement events and consents) together
with the ground truth behind them, so identity resolution, profiles and
analytics can be measured against a known answer.

Design notes:

* Everything about person ``i`` comes from random streams seeded by
  ``SeedSequence([seed, i])``; facts another person needs to know (does
  person ``j`` hold a card, what is their phone) come from a keyed integer
  hash or an affine permutation of the index, so generation streams person
  by person and ``people()`` agrees with ``records()`` without any lookup
  table.
* Phones, card numbers, app ids, e-mail suffixes and store customer codes
  are permutations of the person index, hence unique without a "seen" set.
* Per-order draws use ``random.Random`` (seeded from numpy's SeedSequence):
  scalar draws there cost a tenth of numpy's per-call overhead, which is
  what keeps 20,000 members x 24 months at a few seconds.
* All stores are in mainland China, which has used UTC+08:00 all year since
  1991, so a fixed offset is exact and needs no tz database.
"""

from __future__ import annotations

import bisect
import calendar
import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from itertools import accumulate
from typing import Any, Literal

import numpy as np

from memberops.demo.menu import (
    CATEGORIES,
    DemoItem,
    DemoStore,
    demo_menu,
    demo_stores,
    item_popularity,
    store_popularity,
)

__all__ = [
    "CATEGORIES",
    "SEGMENTS",
    "SERVICE_REQUIREMENTS",
    "TASTE_KEYS",
    "DemoChain",
    "DemoItem",
    "DemoRecord",
    "DemoStore",
    "PersonTruth",
    "demo_menu",
    "demo_stores",
    "normalise_phone",
]

RecordKind = Literal["order", "refund", "event", "consent"]
_Emit = Callable[[int, RecordKind, dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class PersonTruth:
    """What is really true about one simulated member (never sent as data)."""

    person_id: str
    tastes: dict[str, float]
    service_requirements: tuple[str, ...]
    home_store: str
    first_visit: datetime
    lapse_at: datetime | None
    segment: str
    shares_phone_with: str | None


@dataclass(frozen=True, slots=True)
class DemoRecord:
    """One record as a source system would send it, plus the true person."""

    kind: RecordKind
    payload: dict[str, Any]
    person_id: str | None


TASTE_KEYS: tuple[str, ...] = (
    "spicy",
    "tomato_broth",
    "mushroom_broth",
    "vegetarian",
    "seafood",
    "meat",
    "sweet_tooth",
    "kids",
    "drinker",
    "premium",
)

SEGMENTS: tuple[str, ...] = ("family", "young_friends", "couple", "business", "solo")

SERVICE_REQUIREMENTS: tuple[str, ...] = (
    "no onions",
    "no coriander",
    "no scallions",
    "no garlic",
    "less spicy",
    "no MSG",
    "less oil",
    "separate broth for kids",
    "extra ice",
    "warm water",
    "extra sauce",
    "no peanuts",
)

# Which taste a menu tag responds to.
_TAG_TASTE: dict[str, str] = {
    "spicy": "spicy",
    "tomato": "tomato_broth",
    "mushroom": "mushroom_broth",
    "vegetarian": "vegetarian",
    "seafood": "seafood",
    "meat": "meat",
    "sweet": "sweet_tooth",
    "kids": "kids",
    "alcohol": "drinker",
    "premium": "premium",
}

# The menu tag each taste responds to, in TASTE_KEYS order.
_TASTE_TAG: tuple[str, ...] = tuple(
    next(tag for tag, key in _TAG_TASTE.items() if key == k) for k in TASTE_KEYS
)

# Share of non-broth lines per category before tastes reshape it.
_CATEGORY_SHARE: dict[str, float] = {
    "meats": 0.27,
    "seafood": 0.14,
    "vegetables": 0.25,
    "staples": 0.09,
    "snacks": 0.07,
    "drinks": 0.11,
    "desserts": 0.04,
    "kids": 0.03,
}

_SAUCE_SKU = "SN001"
_KIDS_BROTH_SKU = "KD001"
_WATER_SKU = "DR001"

_TZ = timezone(timedelta(hours=8))
_TZ_OFFSET = 8 * 3600
_DAY = 86_400
_YEAR = 365.2425 * _DAY
_MASK64 = (1 << 64) - 1

# Visit intensity multipliers. Hot pot is a weekend, winter and holiday meal.
_WEEKDAY_FACTOR = (0.75, 0.75, 0.8, 0.85, 1.3, 1.6, 1.35)  # Monday first
_MONTH_FACTOR = (1.25, 1.3, 1.0, 0.95, 0.9, 0.85, 1.0, 1.0, 0.95, 1.05, 1.1, 1.25)
_BIRTHDAY_FACTOR = 3.0
_FACTOR_MAX = max(_WEEKDAY_FACTOR) * max(_MONTH_FACTOR) * _BIRTHDAY_FACTOR

# Meal windows in local minutes after midnight; late night runs past 24:00.
_MEALS: dict[str, tuple[int, int, int]] = {
    # name: (start, end, peak)
    "lunch": (11 * 60, 14 * 60, 12 * 60 + 15),
    "dinner": (17 * 60, 21 * 60 + 30, 18 * 60 + 45),
    "late_night": (21 * 60 + 30, 26 * 60, 22 * 60 + 30),
}
_MEAL_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "family": (0.35, 0.6, 0.05),
    "young_friends": (0.2, 0.5, 0.3),
    "couple": (0.25, 0.6, 0.15),
    "business": (0.3, 0.65, 0.05),
    "solo": (0.4, 0.45, 0.15),
}
_PARTY: dict[str, tuple[tuple[int, ...], tuple[float, ...]]] = {
    "family": ((2, 3, 4, 5, 6), (0.1, 0.3, 0.35, 0.2, 0.05)),
    "young_friends": ((2, 3, 4, 5, 6), (0.25, 0.25, 0.25, 0.15, 0.1)),
    "couple": ((2, 3, 4), (0.85, 0.1, 0.05)),
    "business": ((2, 3, 4, 5, 6, 7, 8), (0.1, 0.2, 0.25, 0.2, 0.12, 0.08, 0.05)),
    "solo": ((1, 2), (0.85, 0.15)),
}

# Buy-till-you-die parameters: visits/year ~ Gamma(shape, scale) and a
# dropout chance after each visit ~ Beta(a, b). Shape < 1 gives the long tail
# (most people a few visits a year, a few weekly).
_RATE_SHAPE = 0.55
_RATE_MEAN = 7.0
_RATE_CAP = 120.0
_DROP_A, _DROP_B = 1.0, 11.0

# Identifier availability.
_P_CARD = 0.75
_P_APP = 0.40
_P_WECHAT = 0.60
_P_EMAIL = 0.30
_P_NEVER_LINK = 0.006  # of everyone; about 0.5% of multi-channel people end up unlinked
_P_PHONE_PAIR = 0.03  # of pairs (2k, 2k+1), hence of persons
_P_HOUSEHOLD = 0.06  # pairs sharing weak identifiers only
_P_CONTRADICTION = 0.0075  # per POS order with a card: about 0.2% of all orders
_P_REFUND = 0.033  # a few drawn near `end` fall outside the window
_P_ANONYMOUS = 1.0 / 9.0  # one walk-in per nine member orders: ~10% of orders

# Identifier permutations (e-mail suffixes, store customer codes) have 10^7 values.
_MAX_MEMBERS = 10**7

_PHONE_PREFIXES: tuple[str, ...] = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150",
    "151", "152", "155", "156", "157", "158", "159", "166", "173", "175",
    "176", "177", "178", "180", "181", "182", "183", "185", "186", "187",
    "188", "189", "198", "199",
)  # fmt: skip

# (hanzi, pinyin, relative frequency): the common mainland surnames.
_SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "Wang", 7.1), ("李", "Li", 7.0), ("张", "Zhang", 6.7), ("刘", "Liu", 5.4),
    ("陈", "Chen", 4.5), ("杨", "Yang", 3.1), ("黄", "Huang", 2.2), ("赵", "Zhao", 2.0),
    ("吴", "Wu", 1.9), ("周", "Zhou", 1.9), ("徐", "Xu", 1.5), ("孙", "Sun", 1.4),
    ("马", "Ma", 1.3), ("朱", "Zhu", 1.3), ("胡", "Hu", 1.2), ("郭", "Guo", 1.1),
    ("何", "He", 1.0), ("高", "Gao", 1.0), ("林", "Lin", 1.0), ("罗", "Luo", 0.9),
    ("郑", "Zheng", 0.9), ("梁", "Liang", 0.8), ("谢", "Xie", 0.7), ("宋", "Song", 0.6),
    ("唐", "Tang", 0.6), ("许", "Xu", 0.6), ("韩", "Han", 0.6), ("冯", "Feng", 0.5),
    ("邓", "Deng", 0.5), ("曹", "Cao", 0.5), ("彭", "Peng", 0.5), ("曾", "Zeng", 0.5),
    ("肖", "Xiao", 0.5), ("田", "Tian", 0.4), ("董", "Dong", 0.4), ("袁", "Yuan", 0.4),
    ("潘", "Pan", 0.4), ("于", "Yu", 0.4), ("蒋", "Jiang", 0.4), ("蔡", "Cai", 0.4),
)  # fmt: skip
_GIVEN_MALE: tuple[tuple[str, str], ...] = (
    ("伟", "Wei"), ("强", "Qiang"), ("磊", "Lei"), ("军", "Jun"), ("洋", "Yang"),
    ("勇", "Yong"), ("杰", "Jie"), ("涛", "Tao"), ("明", "Ming"), ("超", "Chao"),
    ("浩", "Hao"), ("宇", "Yu"), ("鹏", "Peng"), ("斌", "Bin"), ("峰", "Feng"),
    ("刚", "Gang"), ("辉", "Hui"), ("建", "Jian"), ("国", "Guo"), ("博", "Bo"),
    ("凯", "Kai"), ("俊", "Jun"), ("轩", "Xuan"), ("泽", "Ze"), ("睿", "Rui"),
)  # fmt: skip
_GIVEN_FEMALE: tuple[tuple[str, str], ...] = (
    ("芳", "Fang"), ("娜", "Na"), ("敏", "Min"), ("静", "Jing"), ("丽", "Li"),
    ("艳", "Yan"), ("娟", "Juan"), ("霞", "Xia"), ("秀", "Xiu"), ("英", "Ying"),
    ("慧", "Hui"), ("婷", "Ting"), ("雪", "Xue"), ("琳", "Lin"), ("欣", "Xin"),
    ("怡", "Yi"), ("佳", "Jia"), ("悦", "Yue"), ("梦", "Meng"), ("雨", "Yu"),
    ("涵", "Han"), ("萱", "Xuan"), ("颖", "Ying"), ("倩", "Qian"), ("玲", "Ling"),
)  # fmt: skip
_GIVEN_ANY: tuple[tuple[str, str], ...] = (
    ("文", "Wen"), ("晨", "Chen"), ("子", "Zi"), ("然", "Ran"), ("思", "Si"),
    ("一", "Yi"), ("嘉", "Jia"), ("安", "An"), ("晓", "Xiao"), ("小", "Xiao"),
)  # fmt: skip
_EMAIL_DOMAINS = (
    "qq.com",
    "163.com",
    "126.com",
    "gmail.com",
    "outlook.com",
    "sina.com",
    "foxmail.com",
)
_EMAIL_DOMAIN_CUM = tuple(accumulate((0.35, 0.2, 0.1, 0.1, 0.1, 0.08, 0.07)))
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

_REFUND_REASONS = (
    "dish quality",
    "wrong dish served",
    "long wait",
    "duplicate payment",
    "dish not served",
)
_REFUND_REASON_CUM = tuple(accumulate((0.35, 0.2, 0.15, 0.15, 0.15)))
_RATING_CUM = tuple(accumulate((0.03, 0.05, 0.12, 0.35, 0.45)))
_CONSENT_ASK = (  # purpose, chance it is asked at sign-up, chance it is granted
    ("marketing", 1.0, 0.88),
    ("personalised_marketing", 0.7, 0.75),
    ("profiling", 0.5, 0.6),
    ("partner_sharing", 0.3, 0.25),
    ("sensitive_data", 0.05, 0.3),
)


# --------------------------------------------------------------------------
# integer hashing and permutations (cross-person facts without lookups)


def _mix64(x: int) -> int:
    """splitmix64 finaliser: a cheap, well-spread 64-bit hash step."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def _hash(seed: int, *keys: int) -> int:
    h = _mix64(seed & _MASK64)
    for key in keys:
        h = _mix64(h ^ (key & _MASK64))
    return h


def _unit(seed: int, *keys: int) -> float:
    """A uniform number in [0, 1) fixed by (seed, keys)."""
    return (_hash(seed, *keys) >> 11) / float(1 << 53)


@dataclass(frozen=True, slots=True)
class _Permutation:
    """x -> (a*x + b) mod m with gcd(a, m) = 1: a bijection on [0, m)."""

    a: int
    b: int
    m: int

    @classmethod
    def make(cls, seed: int, salt: int, m: int) -> _Permutation:
        a = _hash(seed, salt, 1) % m | 1
        while math.gcd(a, m) != 1:
            a += 2
        return cls(a=a, b=_hash(seed, salt, 2) % m, m=m)

    def __call__(self, x: int) -> int:
        return (self.a * x + self.b) % self.m


def normalise_phone(raw: str) -> str:
    """Return the 11 national digits of a Chinese mobile however it was typed."""
    digits = "".join(ch for ch in raw if ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def _format_phone(digits: str, style: int) -> str:
    if style == 0:
        return digits
    if style == 1:
        return f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}"
    if style == 2:
        return f"86-{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if style == 3:
        return f"+86{digits}"
    return f"(+86){digits}"


# How each source tends to type phones: cumulative weights over the styles
# of _format_phone. POS staff type bare digits; apps store E.164.
_PHONE_STYLE_CUM: dict[str, tuple[float, ...]] = {
    "pos": tuple(accumulate((0.6, 0.1, 0.1, 0.1, 0.1))),
    "app": tuple(accumulate((0.25, 0.05, 0.0, 0.7, 0.0))),
    "miniprogram": tuple(accumulate((0.4, 0.4, 0.0, 0.0, 0.2))),
}


def _email_variant(email: str, r: random.Random) -> str:
    """The same address in the capitalisation a person happened to type."""
    u = r.random()
    if u < 0.6:
        return email
    local, _, domain = email.partition("@")
    if u < 0.9:
        return f"{_capitalise_parts(local)}@{domain.capitalize()}"
    return email.upper()


def _capitalise_parts(local: str) -> str:
    out: list[str] = []
    capital = True
    for ch in local:
        out.append(ch.upper() if capital else ch)
        capital = ch in "._"
    return "".join(out)


def _cumulative(weights: np.ndarray[Any, np.dtype[np.float64]]) -> tuple[float, ...]:
    cum: list[float] = np.cumsum(weights).tolist()
    return tuple(cum)


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, _TZ).isoformat()


def _months_before(end: datetime, months: int) -> datetime:
    """`end` moved back by calendar months, day clamped to the month length."""
    total = end.year * 12 + (end.month - 1) - months
    year, month0 = divmod(total, 12)
    day = min(end.day, calendar.monthrange(year, month0 + 1)[1])
    return end.replace(year=year, month=month0 + 1, day=day)


def _pick(cum: Sequence[float], u: float) -> int:
    """Index drawn from cumulative weights with a uniform `u` in [0, 1)."""
    i = bisect.bisect_right(cum, u * cum[-1])
    return min(i, len(cum) - 1)


# --------------------------------------------------------------------------
# per-person internal state


@dataclass(slots=True)
class _Identity:
    phone: str  # 11 digits; shared with the partner in a family-phone pair
    card_no: str | None
    app_user_id: str | None
    wechat_openid: str | None
    wechat_unionid: str | None
    email: str | None
    device_id: str | None
    name: str
    nickname: str
    birthday: date
    gender: str
    never_link: bool
    phone_partner: int | None


@dataclass(slots=True)
class _Flags:
    has_card: bool
    has_app: bool
    has_wechat: bool
    has_email: bool
    never_link: bool
    phone_partner: int | None
    household_partner: int | None
    share_email: bool
    share_device: bool


@dataclass(slots=True)
class _Latent:
    index: int
    truth: PersonTruth
    identity: _Identity
    visits: list[int]  # epoch seconds, sorted
    meals: list[str]
    content_seed: int
    birthday_doy: int


@dataclass(slots=True)
class _Counters:
    """Running source ids; small and independent of the number of members."""

    pos: dict[str, int] = field(default_factory=dict)
    app: int = 0
    miniprogram: int = 0
    events: dict[str, int] = field(default_factory=dict)

    def order_id(self, source: str, store: str) -> str:
        if source == "pos":
            n = self.pos.get(store, 0) + 1
            self.pos[store] = n
            return f"{store}-{n:09d}"
        if source == "app":
            self.app += 1
            return f"APP{self.app:012d}"
        self.miniprogram += 1
        return f"MP{self.miniprogram:012d}"

    def event_id(self, source: str) -> str:
        n = self.events.get(source, 0) + 1
        self.events[source] = n
        return f"EV-{source.upper()}-{n:010d}"


@dataclass(slots=True)
class _OrderDraft:
    ts: int
    source: str
    payload: dict[str, Any]
    own_card: str | None  # the person's own card on this order, if any
    unionid: str | None
    has_phone: bool


class DemoChain:
    """A deterministic simulated hot-pot chain with `members` identified people.

    Same (members, seed, months, end) gives the same people and records.
    History covers the `months` calendar months before the tz-aware `end`.
    """

    def __init__(self, *, members: int, seed: int, months: int, end: datetime) -> None:
        if not 0 <= members <= _MAX_MEMBERS:
            raise ValueError(f"members must be between 0 and {_MAX_MEMBERS}")
        if months < 1:
            raise ValueError("months must be >= 1")
        if end.tzinfo is None or end.utcoffset() is None:
            raise ValueError("end must be timezone-aware")
        self.members = members
        self.seed = seed
        self.months = months
        self.end = end
        self.start = _months_before(end, months)
        self.stores: list[DemoStore] = demo_stores()
        self.items: list[DemoItem] = demo_menu()
        self._t0 = int(self.start.timestamp())
        self._t1 = int(end.timestamp())
        self._items = {item.sku: item for item in self.items}
        self._store_open = {
            s.code: int(
                datetime(
                    s.opened_on.year, s.opened_on.month, s.opened_on.day, 11, tzinfo=_TZ
                ).timestamp()
            )
            for s in self.stores
        }
        traffic = store_popularity()
        self._store_codes = [s.code for s in self.stores]
        self._store_traffic = [traffic[c] for c in self._store_codes]
        self._traffic_cum = tuple(accumulate(self._store_traffic))
        self._city_stores: dict[str, list[str]] = {}
        for s in self.stores:
            self._city_stores.setdefault(s.city, []).append(s.code)
        self._store_city = {s.code: s.city for s in self.stores}
        self._store_region = {s.code: s.region for s in self.stores}
        self._popularity = item_popularity()
        self._broths = [i for i in self.items if i.category == "broths"]
        self._pool = [
            i
            for i in self.items
            if i.category != "broths" and i.sku not in (_SAUCE_SKU, _KIDS_BROTH_SKU)
        ]
        # Identifier permutations: unique values for up to _MAX_MEMBERS people.
        self._perm_phone = _Permutation.make(seed, 101, len(_PHONE_PREFIXES) * 10**8)
        self._perm_card = _Permutation.make(seed, 102, 10**10)
        self._perm_app = _Permutation.make(seed, 103, 10**9)
        self._perm_email = _Permutation.make(seed, 104, 10**7)
        self._perm_store_code = [
            _Permutation.make(seed, 200 + k, 10**7) for k in range(len(self.stores))
        ]
        # Pool as matrices so a person's dish weights are a few numpy ops.
        cats = list(_CATEGORY_SHARE)
        self._pool_pop = np.array([self._popularity[i.sku] for i in self._pool])
        self._pool_tags = np.array(
            [[1.0 if tag in i.tags else 0.0 for tag in _TASTE_TAG] for i in self._pool]
        )
        self._pool_cat_idx = np.array([cats.index(i.category) for i in self._pool])
        self._pool_cat = np.zeros((len(cats), len(self._pool)))
        self._pool_cat[self._pool_cat_idx, np.arange(len(self._pool))] = 1.0
        self._cat_share = np.array([_CATEGORY_SHARE[c] for c in cats])
        self._anon_cum = _cumulative(self._pool_weights(None))

    # ------------------------------------------------------------------ API

    def people(self) -> Iterator[PersonTruth]:
        """Yield the ground truth of every member, in person order."""
        for index in range(self.members):
            yield self._latent(index).truth

    def records(self) -> Iterator[DemoRecord]:
        """Yield every record, person by person, each person's in time order.

        After a person's own records come the anonymous walk-in orders drawn
        alongside them (person_id None). Memory stays bounded by one person.
        """
        counters = _Counters()
        for index in range(self.members):
            yield from self._person_records(index, counters)

    @staticmethod
    def person_id(index: int) -> str:
        """The ground-truth id of the member with this index."""
        return f"P{index:08d}"

    # ------------------------------------------------------- cross-person facts

    def _flags(self, index: int) -> _Flags:
        seed = self.seed
        pair = index // 2
        partner = index ^ 1
        phone_partner: int | None = None
        household: int | None = None
        share_email = share_device = False
        if partner < self.members:
            u = _unit(seed, 11, pair)
            v = _unit(seed, 12, pair)
            if u < _P_PHONE_PAIR:
                phone_partner = partner
                share_email = v < 0.3
            elif u < _P_PHONE_PAIR + _P_HOUSEHOLD:
                household = partner
                share_email = v < 0.6
                share_device = v >= 0.4
        flags = _Flags(
            has_card=_unit(seed, 21, index) < _P_CARD,
            has_app=_unit(seed, 22, index) < _P_APP,
            has_wechat=_unit(seed, 23, index) < _P_WECHAT,
            has_email=_unit(seed, 24, index) < _P_EMAIL,
            never_link=_unit(seed, 25, index) < _P_NEVER_LINK,
            phone_partner=phone_partner,
            household_partner=household,
            share_email=share_email,
            share_device=share_device,
        )
        if phone_partner is not None:
            # Family phones: both always order at POS with their own card and
            # the shared phone, and never use that phone in app/mini-program.
            flags.has_card = True
            flags.has_app = flags.has_wechat = False
            flags.never_link = False
        if share_email:
            flags.has_email = True
        if share_device:
            flags.has_wechat = True
        return flags

    def _phone_digits(self, index: int) -> str:
        v = self._perm_phone(index)
        prefix, rest = divmod(v, 10**8)
        return f"{_PHONE_PREFIXES[prefix]}{rest:08d}"

    def _member_phone(self, index: int) -> str:
        """The phone a member really uses (the shared one in a family pair)."""
        partner = self._flags(index).phone_partner
        return self._phone_digits(partner if partner is not None and index % 2 == 1 else index)

    def _card_no(self, index: int) -> str:
        return f"HD{self._perm_card(index):010d}"

    def _base_identity(self, index: int, flags: _Flags) -> _Identity:
        """Identity of one person before any sharing within a pair."""
        state = np.random.SeedSequence([self.seed, index, 0]).generate_state(1, np.uint64)
        r = random.Random(int(state[0]))
        gender = "female" if r.random() < 0.52 else "male"
        s_zh, s_py, _ = _SURNAMES[_pick(_SURNAME_CUM, r.random())]
        own = _GIVEN_FEMALE if gender == "female" else _GIVEN_MALE
        given = [
            r.choice(own if r.random() < 0.8 else _GIVEN_ANY)
            for _ in range(1 if r.random() < 0.3 else 2)
        ]
        name = s_zh + "".join(g[0] for g in given)
        given_py = "".join(g[1] for g in given).capitalize()
        nickname = f"{s_py} {given_py}"
        age = _pick_age(r)
        birthday = self.end.date() - timedelta(days=int(age * 365.25) + r.randrange(365))
        openid = unionid = device = email = None
        if flags.has_wechat:
            openid = "o" + "".join(r.choices(_ID_ALPHABET, k=27))
            unionid = "u" + "".join(r.choices(_ID_ALPHABET, k=27))
        device = f"{r.getrandbits(128):032X}"
        device = f"{device[:8]}-{device[8:12]}-{device[12:16]}-{device[16:20]}-{device[20:]}"
        if flags.has_email:
            n = self._perm_email(index)
            dom = _EMAIL_DOMAINS[_pick(_EMAIL_DOMAIN_CUM, r.random())]
            sur, giv = s_py.lower(), given_py.lower()
            style = r.randrange(4)
            if dom == "qq.com" and style == 0:
                local = str(10_000_000 + n)  # QQ addresses are usually the QQ number
            elif style == 1:
                local = f"{giv}.{sur}{n}"
            elif style == 2:
                local = f"{sur}_{giv}{n}"
            else:
                local = f"{sur}.{giv}{n}"
            email = f"{local}@{dom}"
        return _Identity(
            phone=self._phone_digits(index),
            card_no=self._card_no(index) if flags.has_card else None,
            app_user_id=f"U{self._perm_app(index):010d}" if flags.has_app else None,
            wechat_openid=openid,
            wechat_unionid=unionid,
            email=email,
            device_id=device,
            name=name,
            nickname=nickname,
            birthday=birthday,
            gender=gender,
            never_link=flags.never_link,
            phone_partner=flags.phone_partner,
        )

    def _identity(self, index: int, flags: _Flags) -> _Identity:
        ident = self._base_identity(index, flags)
        partner = (
            flags.phone_partner if flags.phone_partner is not None else flags.household_partner
        )
        if partner is not None and index % 2 == 1:
            # The odd member of a pair takes over what the even one shares.
            other = self._base_identity(partner, self._flags(partner))
            if flags.phone_partner is not None:
                ident.phone = other.phone
            if flags.share_email:
                ident.email = other.email
            if flags.share_device:
                ident.device_id = other.device_id
        return ident

    # ------------------------------------------------------------ latent person

    def _latent(self, index: int) -> _Latent:
        flags = self._flags(index)
        ident = self._identity(index, flags)
        state = np.random.SeedSequence([self.seed, index]).generate_state(2, np.uint64)
        r = random.Random(int(state[0]))
        age = (self.end.date() - ident.birthday).days // 365
        pair = index // 2
        if flags.phone_partner is not None:
            segment = "family" if _unit(self.seed, 13, pair) < 0.5 else "couple"
        else:
            segment = SEGMENTS[_pick(_segment_cum(age), r.random())]
        # Home store: traffic-weighted among stores open at the first visit.
        join = self._t0 + _DAY + int(r.random() * max(self._t1 - self._t0 - 3 * _DAY, _DAY))
        if flags.phone_partner is not None or flags.household_partner is not None:
            # A household shares a home store; the pair seed picks it.
            codes = [
                c for c in self._store_codes if self._store_open[c] <= self._t0
            ] or self._store_codes
            weights = [self._store_traffic[self._store_codes.index(c)] for c in codes]
            home = codes[_pick(tuple(accumulate(weights)), _unit(self.seed, 14, pair))]
        else:
            codes = [
                c for c in self._store_codes if self._store_open[c] <= join
            ] or self._store_codes
            weights = [self._store_traffic[self._store_codes.index(c)] for c in codes]
            home = codes[_pick(tuple(accumulate(weights)), r.random())]
        # Only matters when `end` predates the stores: keep the first visit in the window.
        join = min(max(join, self._store_open[home]), self._t1 - 2 * _DAY)
        tastes = _draw_tastes(r, segment, self._store_region[home], age)
        reqs = _draw_requirements(r, tastes, segment)
        birthday_doy = ident.birthday.timetuple().tm_yday - 1
        rate = min(r.gammavariate(_RATE_SHAPE, _RATE_MEAN / _RATE_SHAPE), _RATE_CAP)
        p_drop = r.betavariate(_DROP_A, _DROP_B)
        meal_cum = tuple(accumulate(_MEAL_WEIGHTS[segment]))

        visits: list[tuple[int, str]] = [self._snap(join, r, meal_cum)]
        lapse: int | None = None
        lam = rate / _YEAR * _FACTOR_MAX  # candidate rate for thinning
        t = float(join)
        while True:
            if r.random() < p_drop:
                lapse = visits[-1][0]
                break
            # Thinning: candidates at the peak rate, kept in proportion to
            # the weekday, season and birthday-week intensity.
            while True:
                t += r.expovariate(lam)
                if t > self._t1 or r.random() * _FACTOR_MAX < _intensity(int(t), birthday_doy):
                    break
            if t > self._t1:
                break
            visits.append(self._snap(int(t), r, meal_cum))
        visits = sorted(v for v in visits if self._t0 <= v[0] <= self._t1)
        if not visits:  # a late-night first visit rolled past `end`: make it lunch
            visits = [self._snap(join, r, (1.0,))]
            lapse = None
        if lapse is not None:
            lapse = visits[-1][0]
        truth = PersonTruth(
            person_id=self.person_id(index),
            tastes=tastes,
            service_requirements=reqs,
            home_store=home,
            first_visit=datetime.fromtimestamp(visits[0][0], _TZ),
            lapse_at=datetime.fromtimestamp(lapse, _TZ) if lapse is not None else None,
            segment=segment,
            shares_phone_with=self.person_id(flags.phone_partner)
            if flags.phone_partner is not None
            else None,
        )
        return _Latent(
            index=index,
            truth=truth,
            identity=ident,
            visits=[v[0] for v in visits],
            meals=[v[1] for v in visits],
            content_seed=int(state[1]),
            birthday_doy=birthday_doy,
        )

    @staticmethod
    def _snap(t: int, r: random.Random, meal_cum: tuple[float, ...]) -> tuple[int, str]:
        """Move a visit to a meal time on its local day."""
        day = (t + _TZ_OFFSET) // _DAY
        meal = ("lunch", "dinner", "late_night")[_pick(meal_cum, r.random())]
        lo, hi, peak = _MEALS[meal]
        minute = int(r.triangular(lo, hi, peak))
        return day * _DAY + minute * 60 - _TZ_OFFSET, meal

    # ------------------------------------------------------------- menu choice

    def _pool_weights(
        self, tastes: dict[str, float] | None
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Weights over the non-broth pool for one person's tastes.

        Vectorised: item weight = popularity x prod over tags of
        (0.15 + 2 x taste), then rescaled so each category keeps its share.
        """
        w = self._pool_pop.copy()
        share = self._cat_share.copy()
        if tastes is not None:
            t = np.array([tastes[k] for k in TASTE_KEYS])
            w *= np.exp(self._pool_tags @ np.log(0.15 + 2.0 * t))
            share *= self._cat_share_scale(tastes)
        by_cat = self._pool_cat @ w  # sum of weights per category
        per_item = share[self._pool_cat_idx] / by_cat[self._pool_cat_idx]
        weights: np.ndarray[Any, np.dtype[np.float64]] = w * per_item
        return weights

    @staticmethod
    def _cat_share_scale(tastes: dict[str, float]) -> np.ndarray[Any, np.dtype[np.float64]]:
        scale = {
            "drinks": 0.6 + tastes["drinker"],
            "kids": 0.2 + 4.0 * tastes["kids"],
            "desserts": 0.5 + tastes["sweet_tooth"],
            "seafood": 0.5 + tastes["seafood"],
            "meats": 0.3 + tastes["meat"],
        }
        return np.array([scale.get(c, 1.0) for c in _CATEGORY_SHARE])

    # ------------------------------------------------------------ the records

    def _person_records(self, index: int, counters: _Counters) -> Iterator[DemoRecord]:
        lat = self._latent(index)
        truth, ident = lat.truth, lat.identity
        pid = truth.person_id
        r = random.Random(lat.content_seed)
        tastes = truth.tastes
        strict_veg = tastes["vegetarian"] > 0.85
        weights = self._pool_weights(tastes)
        # Favourite dishes: a handful of items this person keeps coming back to.
        pool_cum = _cumulative(weights)
        for _ in range(5):
            weights[_pick(pool_cum, r.random())] *= 6.0
        pool_cum = _cumulative(weights)
        broth_cum = tuple(
            accumulate(
                self._popularity[b.sku] * _taste_factor(b.tags, tastes) for b in self._broths
            )
        )
        mods_cache: dict[str, list[str]] = {}
        reqs = truth.service_requirements

        # Channel preferences: POS is the default, app and mini-program users
        # lean on them with person-specific strength.
        channels: list[str] = ["pos"]
        ch_weights: list[float] = [1.0]
        if ident.app_user_id is not None:
            channels.append("app")
            ch_weights.append(r.lognormvariate(0.8, 0.9))
        if ident.wechat_unionid is not None:
            channels.append("miniprogram")
            ch_weights.append(r.lognormvariate(0.0, 0.9))
        ch_cum = tuple(accumulate(ch_weights))

        home = truth.home_store
        city_others = [c for c in self._city_stores[self._store_city[home]] if c != home]
        pos_codes: dict[str, str | None] = {}  # filled lazily: most people see 1-2 stores
        communicator = r.random() < 0.12
        share_p = r.uniform(0.15, 0.5) if communicator else 0.01
        party_sizes, party_w = _PARTY[truth.segment]
        party_cum = tuple(accumulate(party_w))

        out: list[tuple[int, int, DemoRecord]] = []
        drafts: list[_OrderDraft] = []
        anon: list[tuple[int, int, DemoRecord]] = []
        seq = 0

        def emit(ts: int, kind: RecordKind, payload: dict[str, Any]) -> None:
            nonlocal seq
            seq += 1
            out.append((ts, seq, DemoRecord(kind=kind, payload=payload, person_id=pid)))

        for n_visit, (ts, meal) in enumerate(zip(lat.visits, lat.meals, strict=True)):
            # Store: mostly home, sometimes another store in town, rarely travel.
            u = r.random()
            if u < 0.82 or (u < 0.92 and not city_others):
                store = home
            elif u < 0.92:
                store = r.choice(city_others)
            else:
                store = self._store_codes[_pick(self._traffic_cum, r.random())]
            if self._store_open[store] > ts:
                store = home
            source = channels[_pick(ch_cum, r.random())]
            party = party_sizes[_pick(party_cum, r.random())]
            kids_here = truth.segment == "family" and party >= 3 and tastes["kids"] > 0.4
            lines = self._lines(
                r, party, kids_here, strict_veg, broth_cum, pool_cum, reqs, mods_cache
            )
            subtotal = sum(ln["quantity"] * ln["unit_price_cents"] for ln in lines)
            discount, vouchers = _discount(r, ts, subtotal, n_visit == 0, lat.birthday_doy)
            customer, own_card, contradiction = self._customer(
                r, ident, source, store, pos_codes, index
            )
            order_id = counters.order_id(source, store)
            payload: dict[str, Any] = {
                "source": source,
                "source_order_id": order_id,
                "channel": source,
                "store_code": store,
                "ordered_at": _iso(ts),
                "meal_type": meal,
                "party_size": party,
                "customer": customer,
                "lines": lines,
                "discount_cents": discount,
                "vouchers": vouchers,
                "total_cents": subtotal - discount,
                "currency": "CNY",
            }
            if n_visit == 0:
                self._signup_consents(r, ts, source, ident, emit)
            emit(ts, "order", payload)
            drafts.append(
                _OrderDraft(
                    ts=ts,
                    source=source,
                    payload=payload,
                    own_card=None if contradiction else own_card,
                    unionid=customer.get("wechat_unionid"),
                    has_phone="phone" in customer,
                )
            )
            refunded = False
            if r.random() < _P_REFUND:
                refunded = self._refund(r, ts, payload, emit)
            self._events(
                r,
                ts,
                store,
                ident,
                channels,
                share_p,
                communicator,
                refunded,
                index,
                emit,
                counters,
            )
            if r.random() < _P_ANONYMOUS:
                anon.append(self._anonymous_order(r, counters))

        self._later_consents(r, lat.visits[0], channels[0], ident, emit)
        self._ensure_links(r, drafts, ident)
        out.sort(key=lambda x: (x[0], x[1]))
        for _ts, _seq, rec in out:
            yield rec
        anon.sort(key=lambda x: (x[0], x[1]))
        for _ts, _seq, rec in anon:
            yield rec

    def _lines(
        self,
        r: random.Random,
        party: int,
        kids_here: bool,
        strict_veg: bool,
        broth_cum: tuple[float, ...],
        pool_cum: tuple[float, ...],
        reqs: tuple[str, ...],
        mods_cache: dict[str, list[str]],
    ) -> list[dict[str, Any]]:
        broth = self._broths[_pick(broth_cum, r.random())]
        picked: list[DemoItem] = [broth, self._items[_SAUCE_SKU]]
        if kids_here and ("separate broth for kids" in reqs or r.random() < 0.15):
            picked.append(self._items[_KIDS_BROTH_SKU])
        want = max(2, min(12 - len(picked), round(r.gauss(1.0 + 1.5 * party, 1.3))))
        seen = {i.sku for i in picked}
        tries = 0
        while (
            len(picked) < want + 2 + (1 if _KIDS_BROTH_SKU in seen else 0) and tries < 4 * want + 8
        ):
            tries += 1
            item = self._pool[_pick(pool_cum, r.random())]
            if item.sku in seen or (strict_veg and ("meat" in item.tags or "seafood" in item.tags)):
                continue
            seen.add(item.sku)
            picked.append(item)
        lines: list[dict[str, Any]] = []
        for item in picked:
            if item.sku in (_SAUCE_SKU, _WATER_SKU):
                qty = party
            elif item.category == "drinks":
                qty = r.randint(1, max(1, party))
            elif item.category == "broths" or item.sku == _KIDS_BROTH_SKU:
                qty = 1
            else:
                qty = 2 if party >= 4 and r.random() < 0.3 else 1
            mods = mods_cache.get(item.sku)
            if mods is None:
                mods = [q for q in reqs if _applies(q, item)]
                mods_cache[item.sku] = mods
            # Recurring needs are stated on most visits, not every one.
            lines.append(
                {
                    "sku": item.sku,
                    "quantity": qty,
                    "unit_price_cents": item.price_cents,
                    "modifiers": [q for q in mods if r.random() < 0.85],
                }
            )
        return lines

    def _customer(
        self,
        r: random.Random,
        ident: _Identity,
        source: str,
        store: str,
        pos_codes: dict[str, str | None],
        index: int,
    ) -> tuple[dict[str, Any], str | None, bool]:
        """Identifiers one order carries; also (own card used, contradiction)."""
        c: dict[str, Any] = {}
        style_cum = _PHONE_STYLE_CUM[source]
        contradiction = False
        own_card: str | None = None
        if source == "pos":
            if ident.phone_partner is not None:
                own_card = ident.card_no
                c["card_no"] = own_card
                c["phone"] = _format_phone(ident.phone, _pick(style_cum, r.random()))
                c["phone_verified"] = True
            else:
                if ident.card_no is not None and r.random() < 0.9:
                    own_card = ident.card_no
                    c["card_no"] = own_card
                    if r.random() < _P_CONTRADICTION:
                        other = self._other_card(r, index)
                        if other is not None:
                            # A cashier typed someone else's card; the phone
                            # is right and tells whose order it really is.
                            c["card_no"] = other
                            contradiction = True
                if "card_no" not in c or contradiction or r.random() < 0.55:
                    c["phone"] = _format_phone(ident.phone, _pick(style_cum, r.random()))
                    c["phone_verified"] = True
            if store not in pos_codes:
                pos_codes[store] = self._pos_code(index, store)
            code = pos_codes[store]
            if code is not None and r.random() < 0.6:
                c["pos_customer_code"] = code
            if ident.email is not None and r.random() < 0.04:  # e-invoice address
                c["email"] = _email_variant(ident.email, r)
                c["email_verified"] = False
            if r.random() < 0.04:
                c["name"] = ident.name
        elif source == "app":
            c["app_user_id"] = ident.app_user_id
            c["phone"] = _format_phone(ident.phone, _pick(style_cum, r.random()))
            c["phone_verified"] = True
            if r.random() < 0.7:
                c["device_id"] = ident.device_id
            if ident.email is not None and r.random() < 0.25:
                c["email"] = _email_variant(ident.email, r)
                c["email_verified"] = False
            if r.random() < 0.3:
                c["name"] = ident.name
                c["nickname"] = ident.nickname
                c["birthday"] = ident.birthday.isoformat()
                c["gender"] = ident.gender
        else:
            c["wechat_openid"] = ident.wechat_openid
            c["wechat_unionid"] = ident.wechat_unionid
            if not ident.never_link and r.random() < 0.85:
                c["phone"] = _format_phone(ident.phone, _pick(style_cum, r.random()))
                c["phone_verified"] = True
            if r.random() < 0.3:
                c["device_id"] = ident.device_id
            if r.random() < 0.5:
                c["nickname"] = ident.nickname
            if r.random() < 0.3:
                c["gender"] = ident.gender
            if r.random() < 0.1:
                c["birthday"] = ident.birthday.isoformat()
            if ident.email is not None and r.random() < 0.1:
                c["email"] = _email_variant(ident.email, r)
                c["email_verified"] = False
        return c, own_card, contradiction

    def _pos_code(self, index: int, store: str) -> str | None:
        """The store-local customer code a person holds at a store, if any."""
        k = self._store_codes.index(store)
        if _unit(self.seed, 31, index, k) >= 0.3:
            return None
        return f"{store}-C{self._perm_store_code[k](index):07d}"

    def _other_card(self, r: random.Random, index: int) -> str | None:
        if self.members < 3:
            return None
        for _ in range(10):
            j = (index + 1 + r.randrange(self.members - 1)) % self.members
            if j != index ^ 1 and self._flags(j).has_card:
                return self._card_no(j)
        return None

    def _ensure_links(self, r: random.Random, drafts: list[_OrderDraft], ident: _Identity) -> None:
        """Make every channel of a person reachable from the phone.

        A card or unionid that never appears next to the verified phone gets
        the phone added to its first order, so perfect resolution is
        possible; people flagged never_link keep their mini-program apart.
        """
        linked: set[str] = set()
        for d in drafts:
            if d.has_phone:
                if d.own_card:
                    linked.add(d.own_card)
                if d.unionid:
                    linked.add(d.unionid)
        for d in drafts:
            if d.has_phone:
                continue
            key = d.own_card or d.unionid
            if key is None or key in linked:
                continue
            if d.source == "miniprogram" and ident.never_link:
                continue
            cust = d.payload["customer"]
            cust["phone"] = _format_phone(
                ident.phone, _pick(_PHONE_STYLE_CUM[d.source], r.random())
            )
            cust["phone_verified"] = True
            d.has_phone = True
            linked.add(key)

    def _refund(
        self,
        r: random.Random,
        ts: int,
        order: dict[str, Any],
        emit: _Emit,
    ) -> bool:
        at = ts + r.randint(20 * 60, 3 * _DAY)
        if at > self._t1:
            return False
        total: int = order["total_cents"]
        if r.random() < 0.3:
            amount = total
        else:
            line = r.choice(order["lines"])
            amount = min(total, line["unit_price_cents"] * max(1, line["quantity"] // 2))
        if amount <= 0:
            return False
        emit(
            at,
            "refund",
            {
                "source": order["source"],
                "source_refund_id": f"{order['source_order_id']}-R1",
                "source_order_id": order["source_order_id"],
                "refunded_at": _iso(at),
                "amount_cents": amount,
                "reason": _REFUND_REASONS[_pick(_REFUND_REASON_CUM, r.random())],
            },
        )
        return True

    def _event_customer(self, r: random.Random, source: str, ident: _Identity) -> dict[str, Any]:
        c: dict[str, Any] = {}
        cum = _PHONE_STYLE_CUM[source]
        if source == "app":
            c["app_user_id"] = ident.app_user_id
            c["phone"] = _format_phone(ident.phone, _pick(cum, r.random()))
            c["phone_verified"] = True
        elif source == "miniprogram":
            c["wechat_openid"] = ident.wechat_openid
            c["wechat_unionid"] = ident.wechat_unionid
            if not ident.never_link and r.random() < 0.7:
                c["phone"] = _format_phone(ident.phone, _pick(cum, r.random()))
                c["phone_verified"] = True
        else:
            if ident.card_no is not None:
                c["card_no"] = ident.card_no
            if ident.card_no is None or ident.phone_partner is not None or r.random() < 0.5:
                c["phone"] = _format_phone(ident.phone, _pick(cum, r.random()))
                c["phone_verified"] = True
        return c

    def _events(
        self,
        r: random.Random,
        ts: int,
        store: str,
        ident: _Identity,
        channels: list[str],
        share_p: float,
        communicator: bool,
        refunded: bool,
        index: int,
        emit: _Emit,
        counters: _Counters,
    ) -> None:
        online = [c for c in channels if c != "pos"]

        def event(
            kind: str, source: str, delay_lo: int, delay_hi: int, extra: dict[str, Any]
        ) -> None:
            at = ts + r.randint(delay_lo, delay_hi)
            if at > self._t1:
                return
            payload: dict[str, Any] = {
                "source": source,
                "source_event_id": counters.event_id(source),
                "type": kind,
                "occurred_at": _iso(at),
                "store_code": store,
                "customer": self._event_customer(r, source, ident),
            }
            payload.update(extra)
            emit(at, "event", payload)

        if online and r.random() < share_p:
            event("share", r.choice(online), 30 * 60, 6 * 3600, {})
        if online and r.random() < (0.06 if communicator else 0.002):
            extra: dict[str, Any] = {}
            if self.members > 1 and r.random() < 0.7:
                j = (index + 1 + r.randrange(self.members - 1)) % self.members
                extra["referred_phone"] = _format_phone(
                    self._member_phone(j), _pick(_PHONE_STYLE_CUM["app"], r.random())
                )
            event("referral", r.choice(online), 3600, 3 * _DAY, extra)
        if online and r.random() < (0.2 if communicator else 0.04):
            rating = 1 + _pick(_RATING_CUM, r.random())
            if refunded:
                rating = max(1, rating - 2)
            event("review", r.choice(online), 3600, 2 * _DAY, {"rating": rating})
        if r.random() < 0.04:
            source = r.choice(channels)
            event(
                "survey_answer",
                source,
                30 * 60,
                _DAY,
                {"rating": 1 + _pick(_RATING_CUM, r.random())},
            )
        if r.random() < (0.15 if refunded else 0.0015):
            event("complaint", r.choice(channels), 10 * 60, _DAY, {})

    def _consent(
        self,
        r: random.Random,
        at: int,
        source: str,
        ident: _Identity,
        purpose: str,
        granted: bool,
        emit: _Emit,
    ) -> None:
        emit(
            at,
            "consent",
            {
                "source": source,
                "customer": self._event_customer(r, source, ident),
                "purpose": purpose,
                "granted": granted,
                "at": _iso(at),
                "notice_version": f"{datetime.fromtimestamp(at, _TZ).year}-01",
            },
        )

    def _signup_consents(
        self, r: random.Random, ts: int, source: str, ident: _Identity, emit: _Emit
    ) -> None:
        at = ts - r.randint(60, 900)  # sign-up just before the first order
        for purpose, ask, grant in _CONSENT_ASK:
            if r.random() < ask:
                self._consent(r, at, source, ident, purpose, r.random() < grant, emit)

    def _later_consents(
        self, r: random.Random, first: int, source: str, ident: _Identity, emit: _Emit
    ) -> None:
        # Some members later withdraw marketing or personalisation, a few opt in.
        for purpose, p_change in (("marketing", 0.06), ("personalised_marketing", 0.05)):
            if r.random() < p_change:
                at = first + int(r.random() * (self._t1 - first))
                if at > first:
                    self._consent(r, at, source, ident, purpose, r.random() < 0.25, emit)

    def _anonymous_order(
        self, r: random.Random, counters: _Counters
    ) -> tuple[int, int, DemoRecord]:
        ts = self._t0 + _DAY + int(r.random() * (self._t1 - self._t0 - 2 * _DAY))
        meal_cum = tuple(accumulate((0.3, 0.55, 0.15)))
        ts, meal = self._snap(ts, r, meal_cum)
        ts = min(max(ts, self._t0), self._t1)
        for _ in range(10):
            store = self._store_codes[_pick(self._traffic_cum, r.random())]
            if self._store_open[store] <= ts:
                break
        else:
            store = self._store_codes[0]
        party = r.randint(1, 6)
        broth_cum = tuple(accumulate(self._popularity[b.sku] for b in self._broths))
        lines = self._lines(r, party, False, False, broth_cum, self._anon_cum, (), {})
        subtotal = sum(ln["quantity"] * ln["unit_price_cents"] for ln in lines)
        payload: dict[str, Any] = {
            "source": "pos",
            "source_order_id": counters.order_id("pos", store),
            "channel": "pos",
            "store_code": store,
            "ordered_at": _iso(ts),
            "meal_type": meal,
            "party_size": party,
            "customer": {},
            "lines": lines,
            "discount_cents": 0,
            "vouchers": [],
            "total_cents": subtotal,
            "currency": "CNY",
        }
        return ts, 0, DemoRecord(kind="order", payload=payload, person_id=None)


# --------------------------------------------------------------------------
# person-level draws


_SURNAME_CUM = tuple(accumulate(s[2] for s in _SURNAMES))
_AGE_BANDS = ((18, 25), (26, 35), (36, 45), (46, 55), (56, 70))
_AGE_CUM = tuple(accumulate((0.25, 0.35, 0.22, 0.12, 0.06)))


def _pick_age(r: random.Random) -> int:
    lo, hi = _AGE_BANDS[_pick(_AGE_CUM, r.random())]
    return r.randint(lo, hi)


def _segment_cum(age: int) -> tuple[float, ...]:
    # Order follows SEGMENTS: family, young_friends, couple, business, solo.
    if age < 26:
        return _SEG_YOUNG
    if age <= 40:
        return _SEG_MID
    return _SEG_OLD


_SEG_YOUNG = tuple(accumulate((0.03, 0.5, 0.24, 0.03, 0.2)))
_SEG_MID = tuple(accumulate((0.32, 0.18, 0.24, 0.12, 0.14)))
_SEG_OLD = tuple(accumulate((0.42, 0.05, 0.2, 0.18, 0.15)))


def _draw_tastes(r: random.Random, segment: str, region: str, age: int) -> dict[str, float]:
    """Latent tastes in [0, 1]; they drive broth, dish and drink choice."""
    vegetarian = r.uniform(0.88, 1.0) if r.random() < 0.05 else r.betavariate(1.2, 6.0)
    spicy = r.betavariate(4.0, 1.5) if region == "Southwest" else r.betavariate(2.0, 2.0)
    tastes = {
        "spicy": spicy,
        "tomato_broth": r.betavariate(1.5, 2.0),
        "mushroom_broth": r.betavariate(1.2, 3.0),
        "vegetarian": vegetarian,
        "seafood": r.betavariate(2.0 if region in ("South", "East") else 1.5, 2.5),
        "meat": r.betavariate(3.0, 2.0) * (1.0 - 0.9 * vegetarian),
        "sweet_tooth": r.betavariate(1.5, 2.5 if age > 30 else 1.8),
        "kids": r.betavariate(5.0, 2.0) if segment == "family" else r.betavariate(1.0, 15.0),
        "drinker": r.betavariate(2.5, 2.0)
        if segment in ("young_friends", "business")
        else r.betavariate(1.2, 4.0),
        "premium": r.betavariate(3.0, 2.0) if segment == "business" else r.betavariate(1.5, 3.5),
    }
    return {k: round(tastes[k], 3) for k in TASTE_KEYS}


def _draw_requirements(r: random.Random, tastes: dict[str, float], segment: str) -> tuple[str, ...]:
    """Recurring service needs (0-3), only ones that fit the person."""
    weights = {
        "no coriander": 3.0,
        "no onions": 2.0,
        "no scallions": 2.0,
        "less spicy": 1.5 if tastes["spicy"] > 0.3 else 0.0,
        "extra ice": 1.5,
        "warm water": 1.0,
        "extra sauce": 1.0,
        "no MSG": 1.0,
        "no garlic": 0.8,
        "less oil": 0.8,
        "no peanuts": 0.5,
        "separate broth for kids": 4.0 if segment == "family" and tastes["kids"] > 0.5 else 0.0,
    }
    k = _pick(_REQ_COUNT_CUM, r.random())
    chosen: list[str] = []
    for _ in range(k):
        names = [n for n, w in weights.items() if w > 0 and n not in chosen]
        if not names:
            break
        cum = tuple(accumulate(weights[n] for n in names))
        name = names[_pick(cum, r.random())]
        chosen.append(name)
        if name in ("extra ice", "warm water"):  # these two contradict each other
            weights["extra ice"] = weights["warm water"] = 0.0
    return tuple(sorted(chosen, key=SERVICE_REQUIREMENTS.index))


_REQ_COUNT_CUM = tuple(accumulate((0.4, 0.3, 0.2, 0.1)))


def _applies(requirement: str, item: DemoItem) -> bool:
    """Whether a service requirement is a modifier on this menu item."""
    tags = item.tags
    is_broth = item.category == "broths"
    if requirement in ("no onions", "no MSG", "less oil"):
        return is_broth
    if requirement == "no coriander":
        return is_broth or "sauce" in tags
    if requirement == "no scallions":
        return is_broth or "sauce" in tags or "noodles" in tags
    if requirement in ("no garlic", "extra sauce", "no peanuts"):
        return "sauce" in tags
    if requirement == "less spicy":
        return is_broth and "spicy" in tags
    if requirement == "separate broth for kids":
        return item.sku == _KIDS_BROTH_SKU
    if requirement == "extra ice":
        return item.category == "drinks" and ("cold" in tags or "water" in tags)
    if requirement == "warm water":
        return "water" in tags
    return False


def _taste_factor(tags: frozenset[str], tastes: dict[str, float]) -> float:
    f = 1.0
    for tag in tags:
        key = _TAG_TASTE.get(tag)
        if key is not None:
            f *= 0.15 + 2.0 * tastes[key]
    return f


def _intensity(t: int, birthday_doy: int) -> float:
    """Relative visit intensity at epoch second `t` (weekday x month x birthday)."""
    day = (t + _TZ_OFFSET) // _DAY
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
    doy = int(day % 365.2425)  # within a day of the true day of year
    f = _WEEKDAY_FACTOR[weekday] * _MONTH_FACTOR[min(11, int(doy / 30.44))]
    dist = abs(doy - birthday_doy)
    if min(dist, 365 - dist) <= 3:
        f *= _BIRTHDAY_FACTOR
    return f


def _discount(
    r: random.Random, ts: int, subtotal: int, first: bool, birthday_doy: int
) -> tuple[int, list[str]]:
    """Voucher discounts in integer cents, never more than half the bill."""
    discount = 0
    vouchers: list[str] = []
    day = (ts + _TZ_OFFSET) // _DAY
    doy = int(day % 365.2425)
    dist = abs(doy - birthday_doy)
    if min(dist, 365 - dist) <= 3 and r.random() < 0.7:
        year = datetime.fromtimestamp(ts, _TZ).year
        vouchers.append(f"BDAY-{year}")
        discount += 3000
    if first and subtotal >= 10_000 and r.random() < 0.4:
        vouchers.append("NEW-20")
        discount += 2000
    if subtotal >= 30_000 and r.random() < 0.15:
        vouchers.append("MJ300-30")  # spend 300, save 30
        discount += 3000
    return min(discount, subtotal // 2), vouchers
