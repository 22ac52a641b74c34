"""Service-desk tables: opening hours, surveys, complaints and call-backs.

Every row that concerns a member declares its `member_id` as member-owned ("move"), so
merges carry complaints, call-backs and survey answers to the surviving member and an
unmerge brings them back. Free text a customer or staff member writes about a complaint
is encrypted at rest like every other personal field.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from memberops.db import Base, IdString, UtcDateTime, new_id, utcnow

__all__ = ["Callback", "Complaint", "StoreOpeningHours", "SurveyResponse", "SurveyTemplate"]


class StoreOpeningHours(Base):
    """One opening window of a store on one weekday, in the store's local time."""

    __tablename__ = "store_opening_hours"
    __table_args__ = (UniqueConstraint("store_id", "weekday", "opens_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(IdString(), ForeignKey("stores.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # Monday = 0
    opens_at: Mapped[time] = mapped_column(Time())
    closes_at: Mapped[time] = mapped_column(Time())  # <= opens_at: closes the next day


class SurveyTemplate(Base):
    """A questionnaire: questions in Chinese and English; one may be the NPS question."""

    __tablename__ = "survey_templates"

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SurveyResponse(Base):
    """One member's (or an anonymous guest's) answers to a survey after a visit."""

    __tablename__ = "survey_responses"
    __table_args__ = (Index("ix_survey_responses_store_answered", "store_id", "answered_at"),)

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    template_id: Mapped[str] = mapped_column(IdString(), ForeignKey("survey_templates.id"))
    member_id: Mapped[str | None] = mapped_column(
        IdString(), ForeignKey("members.id"), index=True, info={"member_owned": "move"}
    )
    store_id: Mapped[str] = mapped_column(IdString(), ForeignKey("stores.id"))
    order_id: Mapped[str | None] = mapped_column(IdString())
    channel: Mapped[str] = mapped_column(String(24))
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    nps_score: Mapped[int | None] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Complaint(Base):
    """A complaint with an owner and an SLA clock that runs on the store's opening hours."""

    __tablename__ = "complaints"
    __encrypted__ = ("description_enc", "resolution_enc")
    __table_args__ = (Index("ix_complaints_store_status", "store_id", "status"),)

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    member_id: Mapped[str | None] = mapped_column(
        IdString(), ForeignKey("members.id"), index=True, info={"member_owned": "move"}
    )
    store_id: Mapped[str] = mapped_column(IdString(), ForeignKey("stores.id"))
    channel: Mapped[str] = mapped_column(String(24))  # staff | api | phone | app | survey
    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(12), default="normal")
    description_enc: Mapped[str | None]
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    owner: Mapped[str | None] = mapped_column(String(64))
    sla_minutes: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolution_enc: Mapped[str | None]
    created_by: Mapped[str] = mapped_column(String(120))


class Callback(Base):
    """A call to make: after a first visit, after a complaint; due per store."""

    __tablename__ = "callbacks"
    __table_args__ = (Index("ix_callbacks_store_status_due", "store_id", "status", "due_at"),)

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    member_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("members.id"), index=True, info={"member_owned": "move"}
    )
    store_id: Mapped[str] = mapped_column(IdString(), ForeignKey("stores.id"))
    reason: Mapped[str] = mapped_column(String(16))  # first_visit | complaint | survey
    complaint_id: Mapped[str | None] = mapped_column(IdString(), ForeignKey("complaints.id"))
    order_id: Mapped[str | None] = mapped_column(IdString())
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(12), default="due")  # due | done | cancelled
    outcome: Mapped[str | None] = mapped_column(String(200))
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    done_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # "first_visit:<member>" or "complaint:<complaint>": a call is scheduled once even
    # when two schedulers run at the same time.
    dedupe_key: Mapped[str] = mapped_column(String(80), unique=True)
