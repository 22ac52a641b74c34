"""Wire shapes of the service desk (Create bodies in, Read bodies out)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

__all__ = [
    "CallbackDone",
    "CallbackRead",
    "CallbacksRead",
    "ComplaintCreate",
    "ComplaintRead",
    "ComplaintResolve",
    "ComplaintUpdate",
    "ComplaintsRead",
    "EscalationRead",
    "FirstVisitSchedule",
    "NpsRead",
    "OpeningHoursIn",
    "QuestionIn",
    "ScheduledRead",
    "StoreNps",
    "SurveyCreate",
    "SurveyRead",
    "SurveyResponseCreate",
    "SurveyResponseRead",
]

_WINDOW = r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$"
_NO_TEXT_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ComplaintCreate(_Strict):
    """A complaint taken at the desk, by phone or through an app."""

    store_code: str = Field(min_length=1, max_length=32)
    category: str = Field(max_length=32)
    description: str = Field(min_length=1, max_length=2000, pattern=_NO_TEXT_CONTROL)
    member_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{26}$")
    severity: Literal["high", "normal", "low"] = "normal"
    channel: Literal["staff", "api", "phone", "app", "survey"] = "api"
    owner: str | None = Field(default=None, max_length=64, pattern=_NO_TEXT_CONTROL)


class ComplaintUpdate(_Strict):
    """Take ownership or move the complaint along."""

    status: Literal["open", "in_progress", "closed"] | None = None
    owner: str | None = Field(default=None, max_length=64, pattern=_NO_TEXT_CONTROL)


class ComplaintResolve(_Strict):
    """What was done; a member's complaint gets a call-back unless told otherwise."""

    resolution: str = Field(min_length=1, max_length=2000, pattern=_NO_TEXT_CONTROL)
    callback: bool = True


class ComplaintRead(BaseModel):
    """A complaint with its SLA state (`minutes_left` counts opening minutes only)."""

    id: str
    member_id: str | None
    store_code: str
    channel: str
    category: str
    severity: str
    status: str
    owner: str | None
    description: str | None
    resolution: str | None
    opened_at: datetime
    due_at: datetime
    resolved_at: datetime | None
    sla_minutes: int
    sla_state: str
    minutes_left: int
    escalation_level: int
    created_by: str
    callback_id: str | None = None


class ComplaintsRead(BaseModel):
    """One page of complaints."""

    complaints: list[ComplaintRead]
    total: int
    limit: int
    offset: int


class EscalationRead(BaseModel):
    """How many complaints were raised a level."""

    escalated: int


class CallbackRead(BaseModel):
    """A call to make (or made)."""

    id: str
    member_id: str
    store_code: str
    reason: str
    complaint_id: str | None
    due_at: datetime
    status: str
    outcome: str | None


class CallbacksRead(BaseModel):
    """The due list."""

    callbacks: list[CallbackRead]
    limit: int
    offset: int


class CallbackDone(_Strict):
    """The outcome of the call."""

    outcome: str = Field(min_length=1, max_length=200, pattern=_NO_TEXT_CONTROL)
    cancelled: bool = False


class FirstVisitSchedule(_Strict):
    """Schedule call-backs for first visits from `since` (up to `until`)."""

    since: AwareDatetime
    until: AwareDatetime | None = None


class ScheduledRead(BaseModel):
    """How many call-backs were scheduled."""

    scheduled: int


class QuestionIn(_Strict):
    """One survey question."""

    id: str | None = Field(default=None, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    kind: Literal["nps", "rating", "text", "choice"]
    text_en: str = Field(default="", max_length=200, pattern=_NO_TEXT_CONTROL)
    text_zh: str = Field(default="", max_length=200, pattern=_NO_TEXT_CONTROL)


class SurveyCreate(_Strict):
    """A new survey template."""

    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    title: str = Field(min_length=1, max_length=120, pattern=_NO_TEXT_CONTROL)
    questions: list[QuestionIn] = Field(min_length=1, max_length=30)


class SurveyRead(BaseModel):
    """A survey template."""

    id: str
    code: str
    title: str
    questions: list[dict[str, Any]]
    active: bool


class SurveyResponseCreate(_Strict):
    """Answers keyed by question id; the NPS answer is 0-10, ratings 0-5."""

    store_code: str = Field(min_length=1, max_length=32)
    member_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{26}$")
    order_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{26}$")
    channel: Literal["staff", "sms", "wechat", "app", "email", "api"] = "api"
    answers: dict[str, int | str] = Field(max_length=30)


class SurveyResponseRead(BaseModel):
    """A stored response (answers are not echoed)."""

    id: str
    survey_code: str
    store_code: str
    member_id: str | None
    nps_score: int | None


class StoreNps(BaseModel):
    """NPS of one store."""

    store_code: str
    responses: int
    nps: float | None


class NpsRead(BaseModel):
    """NPS per store."""

    stores: list[StoreNps]


class OpeningHoursIn(_Strict):
    """Windows per weekday (0 = Monday), e.g. {"0": ["10:00-22:00"]}."""

    week: dict[Annotated[int, Field(ge=0, le=6)], list[Annotated[str, Field(pattern=_WINDOW)]]] = (
        Field(max_length=7)
    )
