"""Store mix on a small chain: value segments from the store profiles' definition."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from builders import ANALYTICS_AS_OF, load_fan_chain
from memberops.actor import Actor
from memberops.db import transaction
from memberops.errors import NotFound
from memberops.lifestyle.service import run_lifestyle
from memberops.pipeline.service import refresh_profiles
from memberops.runtime import Runtime
from memberops.storemix import SEGMENT_FIELDS, MixConfig
from memberops.storemix.service import store_mix

AS_OF = datetime.fromisoformat(ANALYTICS_AS_OF)
SMALL = MixConfig(min_members=1)


def prepare(runtime: Runtime, admin: Actor) -> dict[str, str]:
    """The fan chain with profiles and lifestyle traits computed."""
    ids = load_fan_chain(runtime, admin)
    with transaction(runtime.sessions) as session:
        refresh_profiles(session, runtime.keyring, full=True)
        run_lifestyle(session, as_of=AS_OF)
    return ids


def test_mix_per_store_and_recommendation(seeded: Runtime, admin: Actor) -> None:
    ids = prepare(seeded, admin)
    with transaction(seeded.sessions) as session:
        mix = store_mix(session, as_of=AS_OF, config=SMALL)
        segments = dict(
            tuple(r)
            for r in session.execute(SEGMENT_FIELDS["storemix.value_segment"].query(session))
        )
    # Spend per person: B 4,100 < D 5,800 < A 6,800 < C 8,200 (percent ranks 0, 1/3,
    # 2/3, 1): C is premium, B value.
    assert {who: segments[m] for who, m in ids.items()} == {
        "A": "mainstream",
        "B": "value",
        "C": "premium",
        "D": "mainstream",
    }
    by_code = {s["store_code"]: s for s in mix}
    bj, sh = by_code["BJ001"], by_code["SH001"]
    assert bj["members"] == sh["members"] == 2
    assert bj["segments"]["value"] == {"members": 1, "share": 0.5}
    assert sh["segments"]["premium"] == {"members": 1, "share": 0.5}
    assert bj["traits"]["family_with_children"] == {"members": 1, "share": 0.5}
    assert bj["recommendation"]["code"] == "promotions"
    assert sh["recommendation"]["code"] == "premium_assortment"


def test_one_store_and_unknown_store(seeded: Runtime, admin: Actor) -> None:
    prepare(seeded, admin)
    with transaction(seeded.sessions) as session:
        only = store_mix(session, as_of=AS_OF, store_code="SH001")
        assert [s["store_code"] for s in only] == ["SH001"]
        # Two members are too few with the default threshold.
        assert only[0]["recommendation"]["code"] == "too_few_members"
        with pytest.raises(NotFound):
            store_mix(session, as_of=AS_OF, store_code="XX999")


@pytest.mark.slow
def test_spark_engine_gives_the_same_mix(seeded: Runtime, admin: Actor, spark: Any) -> None:
    prepare(seeded, admin)
    with transaction(seeded.sessions) as session:
        duck = store_mix(session, as_of=AS_OF, config=SMALL)
        on_spark = store_mix(session, as_of=AS_OF, config=SMALL, engine="spark", spark=spark)
    assert on_spark == duck
    assert len(duck) == 2
