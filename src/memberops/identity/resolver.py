"""The batch resolver: which member each record of an import belongs to.

A record (an order, an event, a consent) carries any of: phone, email, WeChat openid and
unionid, app user id, card number, POS customer code, device id. The resolver decides
which member it belongs to:

1. Exclusive identifiers (card, app account, WeChat ids, POS code) point at their one
   holder. If they point at several members, those members are the same person and are
   merged, unless they contradict each other (`rules.compatible`): then the case goes to
   the review queue and nothing is fused.
2. Otherwise verified phones and emails point at their holders. One compatible holder
   takes the record; several (a family phone) make the record ambiguous: it is kept
   unattached and queued for review rather than given to the wrong person.
3. A record whose strong identifiers are all new creates a member. Weak identifiers
   (unverified phone or email, device id) are kept on the record but never create,
   attach or merge on their own.

Merges go through `memberops.identity.merges` (survivorship is documented in
docs/identity.md). The resolver caches what it has read for one batch and buffers its
inserts; callers call `prefetch` with a batch's identifiers, then `resolve` per record,
then `flush`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.db import bulk_insert, new_id, utcnow
from memberops.identity.merges import merge_members
from memberops.identity.models import Identifier, MemberIdentifier, MergeRecord
from memberops.identity.repository import were_separated
from memberops.identity.reviews import open_review
from memberops.identity.rules import (
    EXCLUSIVE_KINDS,
    KIND_PRIORITY,
    SINGLE_PER_MEMBER_KINDS,
    MemberSketch,
    SeenIdentifier,
    compatible,
    fold_sketch,
    record_fits,
    survivor_and_absorbed,
)
from memberops.members.models import ENCRYPTED_MEMBER_FIELDS, Member
from memberops.members.service import new_member_row
from memberops.privacy.crypto import KeyRing

__all__ = ["IdentityResolver", "PersonalFields", "Resolution"]

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
        self._sketch: dict[str, MemberSketch] = {}
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
                sketch = MemberSketch(created_at=row[1], gender_set=bool(row[5]))
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
        return record_fits(self._sketch[member_id], seen, self._ident)

    def _compatible(self, a: str, b: str) -> tuple[bool, str]:
        return compatible(self._sketch[a], self._sketch[b])

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
        self._new_members[member_id] = new_member_row(
            member_id, created_at=at, first_channel=source
        )
        self._sketch[member_id] = MemberSketch(created_at=at)
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
        self.flush()  # the case names members this batch may have created
        open_review(self.session, kind, member_ids, identifier_id, detail=detail)

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
        survivor, absorbed = survivor_and_absorbed(
            a, self._sketch[a].created_at, b, self._sketch[b].created_at
        )
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
        fold_sketch(self._sketch[survivor], self._sketch[absorbed])
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
