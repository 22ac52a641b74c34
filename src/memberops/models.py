"""Imports every capability's tables, so the metadata is complete (migrations, merges)."""

from memberops.apikeys.models import ApiKey
from memberops.catalog.models import Item, Store
from memberops.concentration.models import ConcentrationMember, ConcentrationSummary
from memberops.fans.models import FanLevelRow
from memberops.identity.models import Identifier, IdentityReview, MemberIdentifier, MergeRecord
from memberops.labels.models import Label, LabelEvent, LabelReview
from memberops.lifecycle.models import LifecycleCohort, LifecycleFlow, LifecycleState
from memberops.lifestyle.models import LifestyleScore
from memberops.loyalty.approvals import AdjustmentRequest
from memberops.loyalty.campaign_models import (
    CampaignDecision,
    CampaignHistory,
    Coupon,
    CouponDefinition,
    IdempotencyKey,
    LoyaltyCampaign,
)
from memberops.loyalty.models import (
    LotMove,
    LoyaltyAccount,
    LoyaltyEntry,
    LoyaltyLot,
    PartnerConversion,
    PartnerRate,
    Redemption,
    TierHistory,
    TierPolicyDoc,
    TierState,
    Voucher,
)
from memberops.members.models import Member, MemberProfile
from memberops.orders.models import (
    EngagementEvent,
    ImportBatch,
    Order,
    OrderAdjustment,
    OrderIdentifier,
    OrderLine,
)
from memberops.pipeline.models import (
    MemberLastVisit,
    MemberMetrics,
    MemberTasteSnapshot,
    PipelineWatermark,
    StoreProfile,
)
from memberops.privacy.models import AuditEntry, AuditHead, Consent, ConsentState, KeyRecord
from memberops.rfm.models import RfmScore
from memberops.segments.models import Segment, SegmentMembership, SegmentRun, SegmentVersion
from memberops.servicedesk.models import (
    Callback,
    Complaint,
    StoreOpeningHours,
    SurveyResponse,
    SurveyTemplate,
)
from memberops.web.models import ConsoleSession, StaffAccount

__all__ = [
    "AdjustmentRequest",
    "ApiKey",
    "AuditEntry",
    "AuditHead",
    "Callback",
    "CampaignDecision",
    "CampaignHistory",
    "Complaint",
    "ConcentrationMember",
    "ConcentrationSummary",
    "Consent",
    "ConsentState",
    "ConsoleSession",
    "Coupon",
    "CouponDefinition",
    "EngagementEvent",
    "FanLevelRow",
    "IdempotencyKey",
    "Identifier",
    "IdentityReview",
    "ImportBatch",
    "Item",
    "KeyRecord",
    "Label",
    "LabelEvent",
    "LabelReview",
    "LifecycleCohort",
    "LifecycleFlow",
    "LifecycleState",
    "LifestyleScore",
    "LotMove",
    "LoyaltyAccount",
    "LoyaltyCampaign",
    "LoyaltyEntry",
    "LoyaltyLot",
    "Member",
    "MemberIdentifier",
    "MemberLastVisit",
    "MemberMetrics",
    "MemberProfile",
    "MemberTasteSnapshot",
    "MergeRecord",
    "Order",
    "OrderAdjustment",
    "OrderIdentifier",
    "OrderLine",
    "PartnerConversion",
    "PartnerRate",
    "PipelineWatermark",
    "Redemption",
    "RfmScore",
    "Segment",
    "SegmentMembership",
    "SegmentRun",
    "SegmentVersion",
    "StaffAccount",
    "Store",
    "StoreOpeningHours",
    "StoreProfile",
    "SurveyResponse",
    "SurveyTemplate",
    "TierHistory",
    "TierPolicyDoc",
    "TierState",
    "Voucher",
]

# Every process that sees the full metadata also gets every merge handler.
from memberops import capabilities

capabilities.install()
