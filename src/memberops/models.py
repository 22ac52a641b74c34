"""Imports every capability's tables, so the metadata is complete (migrations, merges)."""

from memberops.api.models import ApiKey
from memberops.catalog.models import Item, Store
from memberops.identity.models import Identifier, IdentityReview, MemberIdentifier, MergeRecord
from memberops.labels.models import Label, LabelEvent
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
from memberops.privacy.models import AuditEntry, AuditHead, Consent, ConsentState, KeyRecord

__all__ = [
    "ApiKey",
    "AuditEntry",
    "AuditHead",
    "Consent",
    "ConsentState",
    "EngagementEvent",
    "Identifier",
    "IdentityReview",
    "ImportBatch",
    "Item",
    "KeyRecord",
    "Label",
    "LabelEvent",
    "LotMove",
    "LoyaltyAccount",
    "LoyaltyEntry",
    "LoyaltyLot",
    "Member",
    "MemberIdentifier",
    "MemberProfile",
    "MergeRecord",
    "Order",
    "OrderAdjustment",
    "OrderIdentifier",
    "OrderLine",
    "PartnerConversion",
    "PartnerRate",
    "Redemption",
    "Store",
    "TierHistory",
    "TierPolicyDoc",
    "TierState",
    "Voucher",
]

# Every process that sees the full metadata also gets every merge handler.
from memberops import capabilities

capabilities.install()
