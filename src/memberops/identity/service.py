"""Omni-channel identity resolution with reversible merges.

A record (an order, an event, a consent) carries any of: phone, email, WeChat openid and
unionid, app user id, card number, POS customer code, device id. The resolver decides
which member it belongs to:

1. Exclusive identifiers (card, app account, WeChat ids, POS code) point at their one
   holder. If they point at several members, those members are the same person and are
   merged, unless they contradict each other (see `_compatible`): then the case goes to
   the review queue and nothing is fused.
2. Otherwise verified phones and emails point at their holders. One compatible holder
   takes the record; several (a family phone) make the record ambiguous: it is kept
   unattached and queued for review rather than given to the wrong person.
3. A record whose strong identifiers are all new creates a member. Weak identifiers
   (unverified phone or email, device id) are kept on the record but never create,
   attach or merge on their own.

Survivorship (documented in docs/identity.md): the older member survives; its personal
fields win, gaps are filled from the absorbed member; everything the absorbed member owned
follows the survivor; the absorbed member is kept (status "merged") and the merge record
lists every moved row so `unmerge` restores both members exactly.

The resolver caches what it has read for one batch and buffers its inserts; callers call
`prefetch` with a batch's identifiers, then `resolve` per record, then `flush`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, text, update
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.db import bulk_insert, new_id, utcnow
from memberops.errors import Conflict, NotFound, ValidationError
from memberops.identity.hooks import MergeEvent, UnmergeEvent, merge_handlers
from memberops.identity.models import Identifier, IdentityReview, MemberIdentifier, MergeRecord
from memberops.identity.rules import (
    EXCLUSIVE_KINDS,
    KIND_PRIORITY,
    SINGLE_PER_MEMBER_KINDS,
    SeenIdentifier,
)
from memberops.members.models import ENCRYPTED_MEMBER_FIELDS, Member, MemberStatus
from memberops.members.ownership import member_owned_tables
from memberops.privacy import audit
from memberops.privacy.crypto import KeyRing

__all__ = [
    "IdentityResolver",
    "PersonalFields",
    "Resolution",
    "find_members_by_identifier",
    "merge_by_decision",
    "merge_members",
    "resolve_review",
    "unmerge",
    "were_separated",
]

_IN_CHUNK = 500


@dataclass(frozen=True, slots=True)
class PersonalFields:
    """Basic info a record may carry about its customer (plaintext until stored)."""

    name: str | None = None
    nickname: str | None = None
    birthday: str | None = None  # ISO date
    gender: str | None = None

    def encrypted_values(self) -> dict[str, str]:
        return {
            column: value
            for column, logical in ENCRYPTED_MEMBER_FIELDS.items()
            if (value := getattr(self, logical))
        }


@dataclass(slots=True)
class Resolution:
    """Where a record went: its member (or None), and the identifier rows it carried."""

    member_id: str | None
    identifiers: list[tuple[str, str, bool]]  # (identifier id, kind, verified)
    created: bool = False
    merged: list[str] = field(default_factory=list)  # merge record ids
    reviews: list[str] = field(default_factory=list)  # review kinds raised


@dataclass(slots=True)
class _Link:
    id: str
    member_id: str
    identifier_id: str
    kind: str
    verified: bool


@dataclass(slots=True)
class _Sketch:
    """What the resolver needs to know about a member to judge compatibility."""

    created_at: datetime
    single: dict[str, str] = field(default_factory=dict)  # kind -> identifier id
    verified_phones: set[str] = field(default_factory=set)
    filled: set[str] = field(default_factory=set)  # encrypted personal columns already set
    gender_set: bool = False


class IdentityResolver:
    """Resolves records to members for one unit of work (see module docstring)."""

    def __init__(self, session: Session, keyring: KeyRing, *, actor: Actor) -> None:
        self.session = session
        self.keyring = keyring
        self.actor = actor
        self._ident: dict[tuple[str, str], str] = {}  # (kind, value) -> identifier id
        self._looked_up: set[tuple[str, str]] = set()
        self._links: dict[str, list[_Link]] = {}  # identifier id -> active links
        self._idents_of: dict[str, set[str]] = {}  # member id -> identifier ids in _links
        self._sketch: dict[str, _Sketch] = {}
        self._new_members: dict[str, dict[str, Any]] = {}
        self._new_identifiers: list[dict[str, Any]] = []
        self._new_links: dict[str, dict[str, Any]] = {}
        self._member_updates: dict[str, dict[str, Any]] = {}
        self._redirect: dict[str, str] = {}
        self.counts = {"members_created": 0, "merges": 0, "reviews": 0}

    # ------------------------------------------------------------------ reading
    def prefetch(self, seen: Iterable[SeenIdentifier]) -> None:
        """Load, in a few queries, everything the batch's identifiers touch."""
        wanted: dict[str, tuple[str, str]] = {}
        for s in seen:
            key = (s.kind, s.value)
            if key in self._looked_up:
                continue
            self._looked_up.add(key)
            for bidx in self.keyring.blind_indexes(s.kind, s.value):
                wanted[bidx] = key
        if not wanted:
            return
        found_ids: list[str] = []
        bidxs = list(wanted)
        for start in range(0, len(bidxs), _IN_CHUNK):
            chunk = bidxs[start : start + _IN_CHUNK]
            rows = self.session.execute(
                select(Identifier.id, Identifier.blind_index).where(
                    Identifier.blind_index.in_(chunk)
                )
            )
            for ident_id, bidx in rows:
                self._ident[wanted[bidx]] = ident_id
                found_ids.append(ident_id)
        self._load_links(found_ids)

    def _load_links(self, identifier_ids: Sequence[str]) -> None:
        members: set[str] = set()
        for start in range(0, len(identifier_ids), _IN_CHUNK):
            chunk = identifier_ids[start : start + _IN_CHUNK]
            for ident_id in chunk:
                self._links.setdefault(ident_id, [])
            rows = self.session.execute(
                select(
                    MemberIdentifier.id,
                    MemberIdentifier.member_id,
                    MemberIdentifier.identifier_id,
                    MemberIdentifier.kind,
                    MemberIdentifier.verified,
                ).where(
                    MemberIdentifier.identifier_id.in_(chunk), MemberIdentifier.status == "active"
                )
            )
            for row in rows:
                link = _Link(*row)
                self._links[link.identifier_id].append(link)
                self._idents_of.setdefault(link.member_id, set()).add(link.identifier_id)
                members.add(link.member_id)
        self._load_sketches(members - set(self._sketch))

    def _load_sketches(self, member_ids: Iterable[str]) -> None:
        ids = list(member_ids)
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            for row in self.session.execute(
                select(
                    Member.id,
                    Member.created_at,
                    Member.name_enc.is_not(None),
                    Member.nickname_enc.is_not(None),
                    Member.birthday_enc.is_not(None),
                    Member.gender.is_not(None),
                ).where(Member.id.in_(chunk))
            ):
                sketch = _Sketch(created_at=row[1], gender_set=bool(row[5]))
                sketch.filled = {
                    col
                    for col, present in zip(ENCRYPTED_MEMBER_FIELDS, row[2:5], strict=True)
                    if present
                }
                self._sketch[row[0]] = sketch
            for link_row in self.session.execute(
                select(
                    MemberIdentifier.member_id,
                    MemberIdentifier.identifier_id,
                    MemberIdentifier.kind,
                    MemberIdentifier.verified,
                ).where(
                    MemberIdentifier.member_id.in_(chunk),
                    MemberIdentifier.status == "active",
                    MemberIdentifier.kind.in_([*SINGLE_PER_MEMBER_KINDS, "phone"]),
                )
            ):
                member_id, ident_id, kind, verified = link_row
                sketch = self._sketch[member_id]
                if kind in SINGLE_PER_MEMBER_KINDS:
                    sketch.single[kind] = ident_id
                elif verified:
                    sketch.verified_phones.add(ident_id)

    def forget(self) -> None:
        """Drop what was cached (after `flush`), so memory stays bounded across chunks."""
        self.flush()
        self._ident.clear()
        self._looked_up.clear()
        self._links.clear()
        self._idents_of.clear()
        self._sketch.clear()
        self._redirect.clear()

    def canonical(self, member_id: str | None) -> str | None:
        """The member an id stands for now (following merges made in this unit of work)."""
        return None if member_id is None else self._follow(member_id)

    def _follow(self, member_id: str) -> str:
        while member_id in self._redirect:
            member_id = self._redirect[member_id]
        return member_id

    # ------------------------------------------------------------------ resolving
    def resolve(
        self,
        seen: Sequence[SeenIdentifier],
        *,
        at: datetime,
        source: str,
        personal: PersonalFields | None = None,
    ) -> Resolution:
        """Attach a record's identifiers to a member (creating or merging as the rules say)."""
        self.prefetch(seen)  # no-op for identifiers prefetched with the batch
        reviews: list[str] = []
        merges: list[str] = []
        strong = sorted((s for s in seen if s.strong), key=lambda s: KIND_PRIORITY[s.kind])

        exclusive_hits: list[tuple[SeenIdentifier, str]] = []
        shared_hits: list[tuple[SeenIdentifier, str, list[str]]] = []
        for s in strong:
            ident_id = self._ident.get((s.kind, s.value))
            if ident_id is None:
                continue
            holders = self._holders(ident_id, s.kind)
            if not holders:
                continue
            if s.kind in EXCLUSIVE_KINDS:
                exclusive_hits.append((s, holders[0]))
            else:
                shared_hits.append((s, ident_id, holders))

        anchor: str | None = None
        created = False
        for s, first_holder in exclusive_hits:
            holder = self._follow(first_holder)  # an earlier merge may have absorbed it
            if anchor is None:
                anchor = holder
            elif holder != anchor:
                anchor = self._merge_or_review(anchor, holder, s, reviews, merges)

        if anchor is not None:
            for s, ident_id, found in shared_hits:
                holders = list(dict.fromkeys(self._follow(h) for h in found))
                others = [h for h in holders if h != anchor]
                if len(holders) == 1 and others:
                    anchor = self._merge_or_review(anchor, others[0], s, reviews, merges)
                elif others and anchor not in holders:
                    self._review("shared_identifier", [anchor, *others], ident_id, reviews)
        elif shared_hits:
            candidates: list[str] = []
            for _s, _ident_id, holders in shared_hits:
                candidates.extend(h for h in holders if h not in candidates)
            one_holder_each = all(len(holders) == 1 for _s, _i, holders in shared_hits)
            if one_holder_each and all(self._record_fits(m, seen) for m in candidates):
                # Verified phone -> A and verified email -> B on one record: the same person.
                anchor = candidates[0]
                for s, _ident_id, holders in shared_hits:
                    holder = self._follow(holders[0])
                    if holder != anchor:
                        anchor = self._merge_or_review(anchor, holder, s, reviews, merges)
            elif self._brings_new_exclusive(seen):
                # A new card (or account) with a phone someone else holds: a second person
                # sharing a family phone, never a reason to fuse two people.
                anchor = self._create_member(at, source)
                created = True
                self._review("shared_identifier", [anchor, *candidates], shared_hits[0][1], reviews)
            else:
                self._review("ambiguous_identifier", candidates, shared_hits[0][1], reviews)

        if anchor is None and strong and not shared_hits:
            anchor = self._create_member(at, source)
            created = True

        identifiers = self._attach(anchor, seen, at=at, source=source, reviews=reviews)
        if anchor is not None and personal is not None:
            self._fill_personal(anchor, personal)
        return Resolution(
            member_id=anchor,
            identifiers=identifiers,
            created=created,
            merged=merges,
            reviews=reviews,
        )

    def _holders(self, ident_id: str, kind: str) -> list[str]:
        links = self._links.get(ident_id, [])
        if kind in EXCLUSIVE_KINDS:
            return [link.member_id for link in links]
        return [link.member_id for link in links if link.verified]

    def _brings_new_exclusive(self, seen: Sequence[SeenIdentifier]) -> bool:
        return any(s.kind in EXCLUSIVE_KINDS and not self._holders_of(s) for s in seen)

    def _holders_of(self, s: SeenIdentifier) -> list[str]:
        ident_id = self._ident.get((s.kind, s.value))
        return self._holders(ident_id, s.kind) if ident_id else []

    def _record_fits(self, member_id: str, seen: Sequence[SeenIdentifier]) -> bool:
        """Could this record be the member's without giving them a second card/account?"""
        sketch = self._sketch[member_id]
        for s in seen:
            if (
                s.kind in SINGLE_PER_MEMBER_KINDS
                and s.kind in sketch.single
                and self._ident.get((s.kind, s.value)) != sketch.single[s.kind]
            ):
                return False
        return True

    def _compatible(self, a: str, b: str) -> tuple[bool, str]:
        """Two members may be merged unless they contradict each other.

        Contradictions: different values of a single-per-member kind (two cards, two app
        accounts, two unionids), or each holding verified phones none of which they share
        (one card seen with two different verified phones).
        """
        sa, sb = self._sketch[a], self._sketch[b]
        for kind in sorted(SINGLE_PER_MEMBER_KINDS):
            if kind in sa.single and kind in sb.single and sa.single[kind] != sb.single[kind]:
                return False, f"both members hold a different {kind}"
        if (
            sa.verified_phones
            and sb.verified_phones
            and not (sa.verified_phones & sb.verified_phones)
        ):
            return False, "the members hold different verified phones"
        return True, ""

    def _merge_or_review(
        self, a: str, b: str, via: SeenIdentifier, reviews: list[str], merges: list[str]
    ) -> str:
        ok, why = self._compatible(a, b)
        if ok and were_separated(self.session, a, b):
            # Someone undid a merge of these two: the same evidence must not redo it.
            ok, why = False, "a merge of these members was undone before"
        if not ok:
            self._review(
                "contradiction",
                [a, b],
                self._ident.get((via.kind, via.value)),
                reviews,
                detail=f"one record links two members by {via.kind}, but {why}",
            )
            return a
        record = self._merge(a, b, evidence=[via.kind], reason=f"linked by {via.kind}")
        merges.append(record.id)
        return record.survivor_id

    # ------------------------------------------------------------------ writing
    def _create_member(self, at: datetime, source: str) -> str:
        member_id = new_id()
        self._new_members[member_id] = {
            "id": member_id,
            "status": MemberStatus.ACTIVE,
            "created_at": at if at < utcnow() else utcnow(),
            "updated_at": utcnow(),
            "first_channel": source,
            "points_balance": 0,
            # executemany needs every row to carry the same columns
            **dict.fromkeys((*ENCRYPTED_MEMBER_FIELDS, "gender")),
        }
        self._sketch[member_id] = _Sketch(created_at=at)
        self.counts["members_created"] += 1
        return member_id

    def _identifier_id(self, s: SeenIdentifier) -> str:
        key = (s.kind, s.value)
        ident_id = self._ident.get(key)
        if ident_id is None:
            ident_id = new_id()
            self._new_identifiers.append(
                {
                    "id": ident_id,
                    "kind": s.kind,
                    "blind_index": self.keyring.blind_index(s.kind, s.value),
                    "index_key_id": self.keyring.active_index_id,
                    "value_enc": self.keyring.encrypt(
                        s.value, table="identifiers", column="value_enc", row_id=ident_id
                    ),
                    "created_at": utcnow(),
                }
            )
            self._ident[key] = ident_id
            self._links[ident_id] = []
        return ident_id

    def _attach(
        self,
        member_id: str | None,
        seen: Sequence[SeenIdentifier],
        *,
        at: datetime,
        source: str,
        reviews: list[str],
    ) -> list[tuple[str, str, bool]]:
        carried: list[tuple[str, str, bool]] = []
        for s in seen:
            ident_id = self._identifier_id(s)
            carried.append((ident_id, s.kind, s.verified))
            if member_id is None:
                continue
            links = self._links[ident_id]
            mine = next((link for link in links if link.member_id == member_id), None)
            if mine is not None:
                if s.verified and not mine.verified:
                    self._upgrade_link(mine, member_id)
                continue
            if s.kind in EXCLUSIVE_KINDS and links:
                continue  # held by someone the record could not be merged with (reviewed)
            sketch = self._sketch[member_id]
            if s.kind in SINGLE_PER_MEMBER_KINDS and s.kind in sketch.single:
                self._review(
                    "contradiction",
                    [member_id],
                    ident_id,
                    reviews,
                    detail=f"a record offers a second {s.kind} for one member",
                )
                continue
            if (
                s.kind == "phone"
                and s.verified
                and sketch.verified_phones
                and ident_id not in sketch.verified_phones
            ):
                self._review(
                    "contradiction",
                    [member_id],
                    ident_id,
                    reviews,
                    detail="one member seen with two different verified phones",
                )
                continue
            link = _Link(new_id(), member_id, ident_id, s.kind, s.verified)
            links.append(link)
            self._idents_of.setdefault(member_id, set()).add(ident_id)
            self._new_links[link.id] = {
                "id": link.id,
                "member_id": member_id,
                "identifier_id": ident_id,
                "kind": s.kind,
                "verified": s.verified,
                "status": "active",
                "source": source,
                "first_seen_at": at,
                "last_seen_at": at,
            }
            if s.kind in SINGLE_PER_MEMBER_KINDS:
                sketch.single[s.kind] = ident_id
            elif s.kind == "phone" and s.verified:
                sketch.verified_phones.add(ident_id)
        return carried

    def _upgrade_link(self, link: _Link, member_id: str) -> None:
        sketch = self._sketch[member_id]
        if link.kind == "phone" and sketch.verified_phones:
            return  # a second verified phone is a contradiction, left unverified
        link.verified = True
        if link.kind == "phone":
            sketch.verified_phones.add(link.identifier_id)
        pending = self._new_links.get(link.id)
        if pending is not None:
            pending["verified"] = True
        else:
            self.session.execute(
                update(MemberIdentifier).where(MemberIdentifier.id == link.id).values(verified=True)
            )

    def _fill_personal(self, member_id: str, personal: PersonalFields) -> None:
        sketch = self._sketch[member_id]
        values: dict[str, Any] = {}
        for column, plaintext in personal.encrypted_values().items():
            if column not in sketch.filled:
                values[column] = self.keyring.encrypt(
                    plaintext, table="members", column=column, row_id=member_id
                )
                sketch.filled.add(column)
        if personal.gender and not sketch.gender_set:
            values["gender"] = personal.gender
            sketch.gender_set = True
        if not values:
            return
        pending = self._new_members.get(member_id)
        if pending is not None and not self._member_updates.get(member_id):
            pending.update(values)
        else:
            self._member_updates.setdefault(member_id, {}).update(values)

    def _review(
        self,
        kind: str,
        member_ids: Sequence[str],
        identifier_id: str | None,
        reviews: list[str],
        *,
        detail: str | None = None,
    ) -> None:
        reviews.append(kind)
        self.counts["reviews"] += 1
        members = sorted(set(member_ids))
        dedupe = f"{kind}:{identifier_id or '-'}:{','.join(members)}"[:128]
        text = detail or {
            "shared_identifier": "a verified identifier is held by members who hold different"
            " cards or accounts",
            "ambiguous_identifier": "a record's only strong identifier is shared by several"
            " members; it was not attached",
        }.get(kind, kind)
        self.flush()
        existing = self.session.scalar(
            select(IdentityReview).where(IdentityReview.dedupe_key == dedupe)
        )
        if existing is not None:
            existing.occurrences += 1
            existing.last_seen_at = utcnow()
            return
        self.session.add(
            IdentityReview(
                kind=kind,
                dedupe_key=dedupe,
                member_ids=members,
                identifier_id=identifier_id,
                detail=text,
            )
        )
        self.session.flush()

    def flush(self) -> None:
        """Write buffered members, identifiers and links."""
        if self._new_members:
            bulk_insert(self.session, Member, list(self._new_members.values()))
            self._new_members = {}
        if self._new_identifiers:
            bulk_insert(self.session, Identifier, self._new_identifiers)
            self._new_identifiers = []
        if self._new_links:
            bulk_insert(self.session, MemberIdentifier, list(self._new_links.values()))
            self._new_links = {}
        for member_id, values in self._member_updates.items():
            self.session.execute(update(Member).where(Member.id == member_id).values(**values))
        self._member_updates = {}

    # ------------------------------------------------------------------ merging
    def _merge(self, a: str, b: str, *, evidence: list[str], reason: str) -> MergeRecord:
        self.flush()
        sa, sb = self._sketch[a], self._sketch[b]
        survivor, absorbed = (a, b) if (sa.created_at, a) <= (sb.created_at, b) else (b, a)
        record = merge_members(
            self.session,
            self.keyring,
            survivor_id=survivor,
            absorbed_id=absorbed,
            evidence=evidence,
            reason=reason,
            actor=self.actor,
        )
        self._redirect[absorbed] = survivor
        # Fold the absorbed member's cached state into the survivor's.
        s_sk, a_sk = self._sketch[survivor], self._sketch[absorbed]
        for kind, ident in a_sk.single.items():
            s_sk.single.setdefault(kind, ident)
        s_sk.verified_phones |= a_sk.verified_phones
        s_sk.filled |= a_sk.filled
        s_sk.gender_set = s_sk.gender_set or a_sk.gender_set
        survivor_idents = self._idents_of.setdefault(survivor, set())
        for ident_id in self._idents_of.pop(absorbed, set()):
            links = self._links[ident_id]
            holders = {link.member_id for link in links}
            for link in list(links):
                if link.member_id == absorbed:
                    if survivor in holders:
                        links.remove(link)
                    else:
                        link.member_id = survivor
            survivor_idents.add(ident_id)
        self.counts["merges"] += 1
        return record


def _survivor_snapshot(member: Member) -> dict[str, Any]:
    return {
        "name_enc": member.name_enc,
        "nickname_enc": member.nickname_enc,
        "birthday_enc": member.birthday_enc,
        "gender": member.gender,
        "discount_bp": member.discount_bp,
        "home_store_id": member.home_store_id,
        "created_at": member.created_at.isoformat(),
    }


def merge_members(
    session: Session,
    keyring: KeyRing,
    *,
    survivor_id: str,
    absorbed_id: str,
    evidence: Sequence[str],
    reason: str,
    actor: Actor,
) -> MergeRecord:
    """Merge `absorbed` into `survivor`, recording every moved row so it can be undone."""
    survivor = session.get(Member, survivor_id)
    absorbed = session.get(Member, absorbed_id)
    if survivor is None or absorbed is None:
        raise NotFound("member to merge not found")
    if survivor.status != MemberStatus.ACTIVE or absorbed.status != MemberStatus.ACTIVE:
        raise Conflict("only active members can be merged")
    record = MergeRecord(
        survivor_id=survivor_id,
        absorbed_id=absorbed_id,
        reason=reason[:200],
        evidence=list(evidence),
        survivor_before=_survivor_snapshot(survivor),
        actor=actor.label,
    )
    moved = _move_owned_rows(session, from_member=absorbed_id, to_member=survivor_id)
    record.moved = moved

    # Links: move, except identifiers the survivor already holds (a shared phone) and, in
    # a merge a reviewer decided, a second card or account: the survivor's stays active and
    # the absorbed one is kept inactive, so an unmerge brings it back.
    survivor_links = session.execute(
        select(MemberIdentifier.identifier_id, MemberIdentifier.kind).where(
            MemberIdentifier.member_id == survivor_id, MemberIdentifier.status == "active"
        )
    ).all()
    survivor_idents = {ident for ident, _kind in survivor_links}
    survivor_single_kinds = {kind for _ident, kind in survivor_links} & SINGLE_PER_MEMBER_KINDS
    moved_links: list[str] = []
    deactivated: list[str] = []
    for link in session.scalars(
        select(MemberIdentifier).where(
            MemberIdentifier.member_id == absorbed_id, MemberIdentifier.status == "active"
        )
    ):
        if link.identifier_id in survivor_idents or link.kind in survivor_single_kinds:
            link.status = "inactive"
            deactivated.append(link.id)
        else:
            link.member_id = survivor_id
            moved_links.append(link.id)
    record.moved_links = moved_links
    record.deactivated_links = deactivated

    # Survivorship: the survivor's values win; gaps are filled from the absorbed member.
    for column in ENCRYPTED_MEMBER_FIELDS:
        if getattr(survivor, column) is None and getattr(absorbed, column) is not None:
            plain = keyring.decrypt(
                getattr(absorbed, column), table="members", column=column, row_id=absorbed_id
            )
            setattr(
                survivor,
                column,
                keyring.encrypt(plain, table="members", column=column, row_id=survivor_id),
            )
    for column in ("gender", "discount_bp", "home_store_id"):
        if getattr(survivor, column) is None:
            setattr(survivor, column, getattr(absorbed, column))
    survivor.created_at = min(survivor.created_at, absorbed.created_at)
    absorbed.status = MemberStatus.MERGED
    absorbed.merged_into_id = survivor_id
    session.add(record)
    session.flush()
    # State other capabilities own (points, tiers, vouchers) moves by their own postings.
    event = MergeEvent(
        merge_id=record.id,
        survivor_id=survivor_id,
        absorbed_id=absorbed_id,
        actor=actor,
        at=utcnow(),
    )
    for handler in merge_handlers():
        handler.on_merge(session, event)
    _refresh_derived(session, [survivor_id, absorbed_id], consents_moved="consents" in moved)
    audit.record(
        session,
        actor,
        "identity.merge",
        member_id=survivor_id,
        fields=list(moved),
        reason=f"merge {record.id}: absorbed {absorbed_id}; {reason}",
    )
    return record


def _move_owned_rows(session: Session, *, from_member: str, to_member: str) -> dict[str, list[str]]:
    """Point every member-owned row of one member at another; returns table -> moved ids.

    On PostgreSQL all tables move in one statement (data-modifying CTEs), one round trip
    per merge instead of one per table; elsewhere one UPDATE ... RETURNING per table.
    """
    owned_tables = member_owned_tables("move")
    moved: dict[str, list[str]] = {}
    if session.get_bind().dialect.name == "postgresql":
        # Table and column names come from the metadata, never from input.
        parts = []
        for i, owned in enumerate(owned_tables):
            (pk,) = owned.primary_key
            column = owned.column.name
            parts.append(
                f"m{i} AS (UPDATE {owned.name} SET {column} = :to_member"  # noqa: S608
                f" WHERE {column} = :from_member"
                f" RETURNING '{owned.name}'::text AS t, {pk.name}::text AS id)"
            )
        selects = [f"SELECT t, id FROM m{i}" for i in range(len(parts))]  # noqa: S608
        statement = f"WITH {', '.join(parts)} {' UNION ALL '.join(selects)}"
        rows = session.execute(
            text(statement), {"to_member": to_member, "from_member": from_member}
        )
        for table_name, row_id in rows:
            moved.setdefault(str(table_name), []).append(str(row_id))
        return moved
    for owned in owned_tables:
        (pk,) = owned.primary_key
        ids = [
            str(i)
            for i in session.scalars(
                owned.table.update()
                .where(owned.column == from_member)
                .values({owned.column.name: to_member})
                .returning(pk)
            )
        ]
        if ids:
            moved[owned.name] = ids
    return moved


def _refresh_derived(
    session: Session, member_ids: Sequence[str], *, consents_moved: bool = True
) -> None:
    """Recompute rows derived from moved history (consent state; profiles on next run)."""
    from memberops.members.models import MemberProfile
    from memberops.privacy.consent import refresh_consent_state

    if consents_moved:
        for member_id in member_ids:
            refresh_consent_state(session, member_id)
    # Stale once history moves; the pipeline rebuilds them.
    session.execute(delete(MemberProfile).where(MemberProfile.member_id.in_(list(member_ids))))


def unmerge(session: Session, keyring: KeyRing, *, merge_id: str, actor: Actor) -> MergeRecord:
    """Undo a merge: both members, their identifiers and their history come back."""
    record = session.get(MergeRecord, merge_id)
    if record is None:
        raise NotFound(f"merge {merge_id} not found")
    if record.status != "active":
        raise Conflict(f"merge {merge_id} was already undone")
    survivor = session.get(Member, record.survivor_id)
    absorbed = session.get(Member, record.absorbed_id)
    assert survivor is not None and absorbed is not None
    if survivor.status != MemberStatus.ACTIVE:
        raise Conflict(f"member {survivor.id} was merged again later; undo that merge first")
    absorbed_links = set(record.moved_links)
    for link in session.scalars(
        select(MemberIdentifier).where(MemberIdentifier.id.in_(absorbed_links))
    ):
        link.member_id = absorbed.id
    for link in session.scalars(
        select(MemberIdentifier).where(MemberIdentifier.id.in_(record.deactivated_links))
    ):
        link.status = "active"
    session.flush()
    absorbed_ident_ids = set(
        session.scalars(
            select(MemberIdentifier.identifier_id).where(
                MemberIdentifier.member_id == absorbed.id, MemberIdentifier.status == "active"
            )
        )
    )
    survivor_ident_ids = (
        set(
            session.scalars(
                select(MemberIdentifier.identifier_id).where(
                    MemberIdentifier.member_id == survivor.id, MemberIdentifier.status == "active"
                )
            )
        )
        - absorbed_ident_ids
    )

    tables = {owned.name: owned for owned in member_owned_tables("move")}
    for table_name, ids in record.moved.items():
        owned = tables.get(table_name)
        if owned is None:
            continue
        (pk,) = owned.primary_key
        for start in range(0, len(ids), _IN_CHUNK):
            session.execute(
                owned.table.update()
                .where(pk.in_(ids[start : start + _IN_CHUNK]), owned.column == survivor.id)
                .values({owned.column.name: absorbed.id})
            )
    later_orders = _return_later_orders(session, record, absorbed_ident_ids, survivor_ident_ids)

    # Take back exactly what the merge gave the survivor; later changes stay.
    before = record.survivor_before
    for column in (*ENCRYPTED_MEMBER_FIELDS, "gender", "discount_bp", "home_store_id"):
        if before.get(column) is None:
            setattr(survivor, column, None)
    survivor.created_at = datetime.fromisoformat(before["created_at"])
    absorbed.status = MemberStatus.ACTIVE
    absorbed.merged_into_id = None
    record.status = "undone"
    record.undone_at = utcnow()
    record.undone_by = actor.label
    session.flush()
    event = UnmergeEvent(
        merge_id=record.id,
        survivor_id=survivor.id,
        absorbed_id=absorbed.id,
        actor=actor,
        at=utcnow(),
        returned_order_ids=(*record.moved.get("orders", []), *later_orders),
    )
    for handler in reversed(merge_handlers()):
        handler.on_unmerge(session, event)
    _refresh_derived(session, [survivor.id, absorbed.id])
    audit.record(
        session,
        actor,
        "identity.unmerge",
        member_id=survivor.id,
        reason=f"unmerge {record.id}: restored {absorbed.id}",
    )
    return record


def _return_later_orders(
    session: Session,
    record: MergeRecord,
    absorbed_idents: set[str],
    survivor_idents: set[str],
) -> list[str]:
    """Orders that arrived after the merge through the absorbed member's identifiers go back.

    Returns their ids, so merge handlers can move what those orders earned.
    """
    from memberops.orders.models import Order, OrderIdentifier

    if not absorbed_idents:
        return []
    candidates = session.execute(
        select(Order.id, OrderIdentifier.identifier_id)
        .join(OrderIdentifier, OrderIdentifier.order_id == Order.id)
        .where(Order.member_id == record.survivor_id, Order.ingested_at >= record.created_at)
    )
    seen: dict[str, set[str]] = {}
    for order_id, ident_id in candidates:
        seen.setdefault(order_id, set()).add(ident_id)
    back = [
        order_id
        for order_id, idents in seen.items()
        if idents & absorbed_idents and not idents & survivor_idents
    ]
    for start in range(0, len(back), _IN_CHUNK):
        session.execute(
            update(Order)
            .where(Order.id.in_(back[start : start + _IN_CHUNK]))
            .values(member_id=record.absorbed_id)
        )
    return back


def merge_by_decision(
    session: Session, keyring: KeyRing, *, member_ids: Sequence[str], actor: Actor, reason: str
) -> list[MergeRecord]:
    """A reviewer's merge: the members are one person (the oldest survives)."""
    members = [session.get(Member, m) for m in dict.fromkeys(member_ids)]
    if len(members) < 2:
        raise Conflict("a merge needs two different members")
    found = [m for m in members if m is not None]
    if len(found) != len(members):
        raise NotFound("member to merge not found")
    found.sort(key=lambda m: (m.created_at, m.id))
    survivor, *others = found
    return [
        merge_members(
            session,
            keyring,
            survivor_id=survivor.id,
            absorbed_id=other.id,
            evidence=["review"],
            reason=f"decided by {actor.label}: {reason}"[:200],
            actor=actor,
        )
        for other in others
    ]


def resolve_review(
    session: Session,
    keyring: KeyRing,
    *,
    review_id: str,
    decision: str,
    actor: Actor,
    note: str,
) -> IdentityReview:
    """Close a review case: `merge` its members, or `keep_apart` (nothing changes)."""
    review = session.get(IdentityReview, review_id)
    if review is None:
        raise NotFound(f"review case {review_id} not found")
    if review.status != "open":
        raise Conflict(f"review case {review_id} is already {review.status}")
    if decision not in ("merge", "keep_apart"):
        raise ValidationError("review decision", "decision", "must be merge or keep_apart")
    if decision == "merge":
        live = [
            m.id
            for m in (session.get(Member, i) for i in review.member_ids)
            if m is not None and m.status == MemberStatus.ACTIVE
        ]
        merge_by_decision(session, keyring, member_ids=live, actor=actor, reason=note)
    review.status = "resolved"
    review.resolved_at = utcnow()
    review.resolution = f"{decision}: {note}"[:200]
    session.flush()
    audit.record(
        session,
        actor,
        "identity.review",
        member_id=review.member_ids[0] if review.member_ids else None,
        reason=f"case {review.id}: {decision}",
    )
    return review


def were_separated(session: Session, a: str, b: str) -> bool:
    """Whether a merge between the two members was undone (they are known to be apart)."""
    return (
        session.scalar(
            select(MergeRecord.id)
            .where(
                MergeRecord.status == "undone",
                or_(
                    and_(MergeRecord.survivor_id == a, MergeRecord.absorbed_id == b),
                    and_(MergeRecord.survivor_id == b, MergeRecord.absorbed_id == a),
                ),
            )
            .limit(1)
        )
        is not None
    )


def find_members_by_identifier(
    session: Session, keyring: KeyRing, *, kind: str, value: str, include_unverified: bool = False
) -> list[str]:
    """Members holding a normalised identifier: one indexed read on the blind index."""
    stmt = (
        select(MemberIdentifier.member_id)
        .join(Identifier, Identifier.id == MemberIdentifier.identifier_id)
        .where(
            Identifier.blind_index.in_(keyring.blind_indexes(kind, value)),
            MemberIdentifier.status == "active",
        )
    )
    if not include_unverified and kind not in EXCLUSIVE_KINDS:
        stmt = stmt.where(MemberIdentifier.verified.is_(True))
    return list(dict.fromkeys(session.scalars(stmt)))
