"""The label guard keeps bodies, guesses and judgements out of member labels."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memberops.labels.evaluation import evaluate, load_eval_rows
from memberops.labels.guard import Screening, screen

DATA = Path(__file__).parent / "data"


def _span_texts(result: Screening) -> list[str]:
    return [span.text for span in result.spans]


# --- the seed notes (seeds 000 and 003) ------------------------------------


@pytest.mark.parametrize(
    "note",
    [
        "20-year-old goose-egg face with beautiful lips, chestnut hair, college student",
        "1.68 m, wears glasses, long hair, big round face, about 25",
        "loves to report us on the APP",
        "鹅蛋脸，嘴唇漂亮，栗色头发，大学生",
        "1米68，戴眼镜，长头发，大圆脸，25岁左右，爱在APP上举报",
    ],
)
def test_seed_notes_describing_the_customer_are_rejected(note: str) -> None:
    assert screen(note).verdict == "reject"


@pytest.mark.parametrize(
    "note",
    [
        "no onions in the spicy hot pot",
        "ice in the lemon juice",
        "loves the tomato pot",
        "doesn't eat carrots",
        "不要葱",
        "柠檬水加冰",
    ],
)
def test_seed_dining_needs_are_allowed_unchanged(note: str) -> None:
    result = screen(note)
    assert result.verdict == "allow"
    assert result.remainder == note
    assert result.spans == ()
    assert result.reasons == ()


def test_seed_age_quiet_carrots_note_keeps_only_the_carrots() -> None:
    result = screen("20-30岁，安静，不吃胡萝卜")
    assert result.verdict == "reject"
    assert result.remainder == "不吃胡萝卜"
    assert _span_texts(result) == ["20-30岁", "安静"]
    assert {s.category for s in result.spans} == {"age", "personality"}


def test_seed_goose_egg_note_keeps_the_tomato_pot() -> None:
    result = screen("鹅蛋脸，嘴唇漂亮，栗色头发，大学生，爱吃番茄锅")
    assert result.remainder == "爱吃番茄锅"
    assert "大学生" in _span_texts(result)


def test_report_us_on_the_app_is_a_disparaging_label() -> None:
    result = screen("loves to report us on the APP")
    assert [s.category for s in result.spans] == ["disparaging"]
    assert result.remainder is None
    assert result.reasons == ("passes a disparaging or behavioural judgement on the customer",)


# --- body-like words that are food or service ----------------------------


def test_fatty_meat_preference_is_not_a_body_description() -> None:
    assert screen("不吃肥肉").verdict == "allow"
    assert screen("no fatty meat").verdict == "allow"


@pytest.mark.parametrize(
    "note",
    [
        "牛舌",
        "毛肚多点",
        "鸭肠要新鲜",
        "脑花加一份",
        "猪脑",
        "鸭血",
        "黄喉",
        "鸭掌",
        "鸡爪",
        "牛百叶",
    ],
)
def test_offal_named_after_body_parts_is_food(note: str) -> None:
    assert screen(note).verdict == "allow"


@pytest.mark.parametrize(
    "note",
    [
        "wants extra-long noodles",
        "skinny fries on the side",
        "tall glass of beer",
        "likes pork belly",
        "frog legs in mala broth",
        "sweet tooth, always gets dessert",
        "eye-round steak, medium",
        "always asks for a hair tie",
        "需要眼镜布",
        "胖大海茶",
        "要高脚椅",
    ],
)
def test_body_like_words_in_dining_needs_are_allowed(note: str) -> None:
    assert screen(note).verdict == "allow"


def test_a_hat_being_worn_is_appearance() -> None:
    assert screen("戴帽子").verdict == "reject"
    assert screen("always wears a hat").verdict == "reject"


def test_quiet_as_a_trait_is_rejected_but_a_quiet_seat_is_allowed() -> None:
    assert screen("quiet, doesn't eat carrots").verdict == "reject"
    assert screen("安静内向").verdict == "reject"
    assert screen("prefers quiet corner").verdict == "allow"
    # "likes quiet" with no place named may be a trait or a wish: a manager decides.
    assert screen("喜欢安静").verdict == "review"
    assert screen("安静的位置").verdict == "allow"


# --- English and indirect phrasing -----------------------------------------


@pytest.mark.parametrize(
    "note",
    [
        "wears glasses",
        "bespectacled",
        "overweight",
        "chubby",
        "tall guy",
        "pretty girl",
        "always complains",
        "complained 3 times",
        "reports us",
        "looks like a student",
        "the lady with the red coat",
        "big guy",
        "very fat",
        "she is very tall",
    ],
)
def test_english_descriptions_of_the_customer_are_rejected(note: str) -> None:
    assert screen(note).verdict == "reject"


@pytest.mark.parametrize(
    "note",
    ["胖胖的", "个子高", "皮肤白", "有纹身", "穿红衣服", "长得像明星", "中年大叔", "事多", "抠门"],
)
def test_chinese_indirect_descriptions_are_rejected(note: str) -> None:
    assert screen(note).verdict == "reject"


def test_english_matching_ignores_case() -> None:
    assert screen("WEARS GLASSES").verdict == "reject"
    assert screen("NO ONIONS").verdict == "allow"


def test_mixed_language_note_keeps_the_chinese_dining_need() -> None:
    result = screen("round face, 不吃辣")
    assert result.verdict == "reject"
    assert result.remainder == "不吃辣"
    assert _span_texts(result) == ["round face"]


# --- Traditional Chinese ---------------------------------------------------


def test_traditional_chinese_appearance_is_rejected() -> None:
    result = screen("戴眼鏡，長頭髮，圓臉")
    assert result.verdict == "reject"
    assert result.remainder is None
    # Spans point at the Traditional characters the waiter typed.
    assert "眼鏡" in _span_texts(result)
    assert "頭髮" in _span_texts(result)


def test_traditional_chinese_dining_need_is_allowed() -> None:
    assert screen("不要蔥").verdict == "allow"
    assert screen("檸檬水要加冰").verdict == "allow"


def test_traditional_chinese_remainder_keeps_original_characters() -> None:
    result = screen("帥哥，不要蔥")
    assert result.remainder == "不要蔥"


# --- spans -----------------------------------------------------------------


def test_spans_point_at_the_offending_substrings() -> None:
    note = "1.68 m, wears glasses, long hair, big round face, about 25"
    result = screen(note)
    for span in result.spans:
        assert note[span.start : span.end] == span.text
    texts = _span_texts(result)
    assert "1.68 m" in texts
    assert "glasses" in texts
    assert "round face" in texts
    assert "about 25" in texts
    categories = {s.text: s.category for s in result.spans}
    assert categories["1.68 m"] == "body-measurement"
    assert categories["about 25"] == "age"


def test_reasons_name_the_kind_of_description_without_quoting_it() -> None:
    result = screen("round face, glasses")
    assert "describes the customer's body or appearance (face)" in result.reasons
    assert all("round" not in reason for reason in result.reasons)


# --- sensitive needs ---------------------------------------------------------


@pytest.mark.parametrize(
    ("note", "category"),
    [
        ("allergic to peanuts", "allergy"),
        ("花生过敏", "allergy"),
        ("花生過敏", "allergy"),
        ("no pork (halal)", "religious-dietary"),
        ("清真", "religious-dietary"),
        ("素食因宗教", "religious-dietary"),
        ("needs wheelchair access", "disability"),
        ("坐轮椅需要无障碍座位", "disability"),
        ("gluten-free for coeliac disease", "health-need"),
        ("diabetic, no sugar", "health-need"),
    ],
)
def test_health_religious_and_access_needs_are_sensitive(note: str, category: str) -> None:
    result = screen(note)
    assert result.verdict == "sensitive"
    assert category in result.sensitive_categories
    assert result.remainder is None
    assert all("consent" in reason for reason in result.reasons)


def test_a_condition_stated_without_a_need_describes_the_person() -> None:
    assert screen("has diabetes").verdict == "reject"
    assert screen("孕妇").verdict == "reject"
    assert screen("Muslim").verdict == "reject"


def test_rejected_note_keeps_its_sensitive_need_in_the_remainder() -> None:
    result = screen("about 40, peanut allergy")
    assert result.verdict == "reject"
    assert result.remainder == "peanut allergy"
    assert result.sensitive_categories == ("allergy",)


# --- edge cases --------------------------------------------------------------


@pytest.mark.parametrize("note", ["", "   ", "\n\t "])
def test_blank_note_is_allowed_and_records_nothing(note: str) -> None:
    result = screen(note)
    assert result.verdict == "allow"
    assert result.remainder == ""
    assert result.spans == ()


def test_very_long_note_is_screened_fully() -> None:
    note = "不吃香菜，" * 2000 + "胖胖的"
    result = screen(note)
    assert result.verdict == "reject"
    assert result.spans[-1].text == "胖胖"
    assert result.remainder is not None and result.remainder.startswith("不吃香菜")


def test_control_characters_do_not_hide_a_description() -> None:
    result = screen("fat\x00guy, no onions")
    assert result.verdict == "reject"
    assert result.remainder == "no onions"
    assert screen("no\u200bonions").verdict == "allow"


def test_full_width_letters_are_read_as_ascii() -> None:
    assert screen("ｗｅａｒｓ ｇｌａｓｓｅｓ").verdict == "reject"


def test_to_dict_is_json_ready() -> None:
    data = screen("round face, 不吃辣").to_dict()
    assert data["verdict"] == "reject"
    assert data["remainder"] == "不吃辣"
    assert data["spans"] == [
        {"start": 0, "end": 10, "category": "appearance", "text": "round face"}
    ]
    assert set(data) == {
        "text",
        "verdict",
        "reasons",
        "spans",
        "remainder",
        "sensitive_categories",
        "clauses",
    }


# --- the labelled evaluation set ---------------------------------------------


def test_evaluation_set_meets_the_guard_targets() -> None:
    report = evaluate(load_eval_rows(DATA / "guard_eval.jsonl"))
    assert report["total"] == sum(report["expected_counts"].values())  # type: ignore[attr-defined]
    assert report["forbidden_rejected_rate"] >= 0.97  # type: ignore[operator]
    assert report["legitimate_rejected_rate"] <= 0.02  # type: ignore[operator]
    assert report["sensitive_allowed_count"] == 0


def test_a_probe_written_apart_from_the_guard_meets_the_targets() -> None:
    # Written without looking at the guard's output; one ambiguous note ("gluten free
    # noodles": a diet or a coeliac need) is allowed where it was expected sensitive.
    report = evaluate(load_eval_rows(DATA / "guard_probe.jsonl"))
    assert report["forbidden_rejected_rate"] >= 0.97  # type: ignore[operator]
    assert report["legitimate_rejected_rate"] <= 0.02  # type: ignore[operator]


def test_evaluation_set_has_the_promised_shape() -> None:
    rows = load_eval_rows(DATA / "guard_eval.jsonl")
    counts = {v: sum(r["expected"] == v for r in rows) for v in ("allow", "reject", "sensitive")}
    assert len(rows) >= 400
    assert counts["reject"] >= 150 and counts["allow"] >= 170 and counts["sensitive"] >= 40
    assert {r["lang"] for r in rows} == {"en", "zh-Hans", "zh-Hant", "mixed"}
    holdout = load_eval_rows(DATA / "guard_holdout.jsonl")
    assert len(holdout) >= 120
    assert not {r["text"] for r in rows} & {r["text"] for r in holdout}


def test_evaluate_counts_a_sensitive_note_that_was_allowed() -> None:
    report = evaluate(
        [
            {"text": "no onions", "expected": "sensitive"},
            {"text": "round face", "expected": "reject"},
            {"text": "no onions", "expected": "allow"},
        ]
    )
    assert report["sensitive_allowed_count"] == 1
    assert report["sensitive_flagged_rate"] == 0.0
    assert report["forbidden_rejected_rate"] == 1.0
    assert report["reject_precision"] == 1.0
    assert report["accuracy"] == pytest.approx(2 / 3)
    assert [m["text"] for m in report["misclassified"]] == ["no onions"]  # type: ignore[attr-defined]


def test_load_eval_rows_rejects_a_row_with_an_unknown_verdict(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "x", "expected": "maybe"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl:1"):
        load_eval_rows(path)


# --- properties ----------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_screen_never_raises_and_spans_point_into_the_note(note: str) -> None:
    result = screen(note)
    assert result.verdict in ("allow", "reject", "sensitive", "review")
    for span in result.spans:
        assert 0 <= span.start < span.end <= len(note)
        assert note[span.start : span.end] == span.text
    if result.verdict == "reject":
        assert result.spans


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["胖", "脸", "fat", "guy", "不吃", "肥肉", "，", " ", "眼镜", "布", "tall", "glass"]
        )
    )
)
def test_screen_handles_lexicon_fragments_in_any_order(parts: list[str]) -> None:
    note = "".join(parts)
    result = screen(note)
    for span in result.spans:
        assert note[span.start : span.end] == span.text
    if result.remainder is not None and result.verdict == "reject":
        assert screen(result.remainder).verdict != "reject"


@pytest.mark.parametrize(
    "note",
    [
        "found a hair in the broth last time, comped the dish",
        "上次头发掉进碗里，已重做道歉",
        "衣服被汤溅到，已赔干洗费",
        "sauce spilled on her jacket, paid for cleaning",
        "孩子手被烫红了，已送冰袋",
    ],
)
def test_an_incident_whose_object_is_a_hair_or_a_sleeve_is_a_service_note(note: str) -> None:
    assert screen(note).verdict == "allow"


@pytest.mark.parametrize("note", ["头发掉光了", "long hair, in the corner", "hair like a mop"])
def test_a_hair_or_clothes_that_describe_the_person_are_still_held(note: str) -> None:
    assert screen(note).verdict in ("reject", "review")


def test_a_single_pinyin_syllable_is_not_enough_to_refuse() -> None:
    # feng kou: 风口 (a draughty seat), not 抠 (stingy); a whole word still refuses.
    assert screen("bu yao zuo feng kou").verdict != "reject"
    assert screen("kou men").verdict == "reject"
    assert screen("xiao pang").verdict == "reject"


def test_who_told_us_and_a_title_do_not_make_a_clause_of_their_own() -> None:
    assert screen("birthday next tuesday, she told us").verdict == "allow"
    assert screen("asked to be called Dr. Lee").verdict == "allow"


@pytest.mark.parametrize(
    ("note", "category"),
    [
        ("wears hearing aids, please speak clearly", "hearing"),
        ("uses crutches, seat near the entrance", "disability"),
        ("low sugar, diabetic", "health-need"),
    ],
)
def test_a_stated_device_or_condition_beside_its_need_is_held_for_consent(
    note: str, category: str
) -> None:
    result = screen(note)
    assert result.verdict == "sensitive"
    assert category in result.sensitive_categories


def test_face_as_a_verb_is_how_to_serve_not_a_description() -> None:
    result = screen("hard of hearing, face him when speaking")
    assert result.verdict == "sensitive"
    assert screen("face him, he looks weird").verdict == "reject"


@pytest.mark.parametrize(
    "note",
    ["一点就炸", "yi dian jiu zha", "人很冷", "很甜", "she's so sweet", "hot-headed", "冷冰冰"],
)
def test_a_trait_made_of_taste_or_temperature_words_is_held(note: str) -> None:
    assert screen(note).verdict in ("reject", "review")


@pytest.mark.parametrize("note", ["辣一点", "要很辣", "上次锅底太辣了", "人很多，要大桌"])
def test_taste_words_in_a_request_stay_service_notes(note: str) -> None:
    assert screen(note).verdict == "allow"


@pytest.mark.parametrize(
    "note",
    [
        "小朋友脸上沾了奶油，帮忙拿了湿巾",
        "孩子把可乐洒到妈妈裙子上，拿了毛巾",
        "please hang up her coat",
        "sauce dripped on his tie, we paid for cleaning",
    ],
)
def test_an_incident_or_a_service_for_the_customers_things_is_stored(note: str) -> None:
    assert screen(note).verdict == "allow"


def test_only_the_incident_words_are_exempt_in_an_incident_clause() -> None:
    assert screen("有点fat kid's face got sauce，拿了湿巾").verdict in ("reject", "review")
    # The body word lies outside the incident, but the clause reports an incident: held
    # for review, never stored, not refused outright.
    assert screen("胖子衣服被汤溅到了").verdict == "review"


@pytest.mark.parametrize(
    ("note", "category"),
    [
        ("佢聽唔到，要用寫字溝通", "hearing"),
        ("客人耳朵不太好，点单请写下来", "hearing"),
        ("客人deaf，点菜写纸上", "hearing"),
        ("he's hard of hearing in one ear, seat him on her left", "hearing"),
        ("visually impaired, read the specials aloud", "disability"),
        ("uses a walking stick, seat near the entrance", "disability"),
        ("客人行动不便，安排靠近入口", "disability"),
    ],
)
def test_a_stated_hearing_sight_or_mobility_need_is_held_with_its_category(
    note: str, category: str
) -> None:
    result = screen(note)
    assert result.verdict in ("sensitive", "review")
    assert category in result.sensitive_categories


@pytest.mark.parametrize(
    "note", ["好像耳背", "seems deaf, kept shouting", "残疾，不要太咸", "身体不好，要冻柠茶少甜"]
)
def test_a_guessed_or_bare_condition_is_not_a_need(note: str) -> None:
    assert screen(note).verdict == "reject"


@pytest.mark.parametrize(
    "note",
    [
        "风扇把客人头发吹乱了，帮忙换了座位",
        "客人眼睛进了油烟，给了眼药水",
        "要個牛腩煲，唔好太肥",
        "上次客人喝醉了，帮叫了代驾",
        "offer an apron, she's wearing white",
    ],
)
def test_a_describing_word_beside_service_content_goes_to_review_not_refusal(note: str) -> None:
    assert screen(note).verdict in ("allow", "review")


@pytest.mark.parametrize("note", ["头发花白的先生", "穿得很暴露", "胃不好", "事儿多的奥客"])
def test_a_clause_that_only_describes_the_person_is_still_refused(note: str) -> None:
    assert screen(note).verdict == "reject"


@pytest.mark.parametrize(("note"), ["很low的客人", "cold fish", "穆斯林，不吃辣"])
def test_slang_and_a_bare_faith_are_held(note: str) -> None:
    result = screen(note)
    assert result.verdict in ("reject", "review")
    assert not result.sensitive_categories


@pytest.mark.parametrize(
    ("note", "category"),
    [
        ("客人用walker，要宽一点的过道", "disability"),
        ("客人hearing不好，点单写下来", "hearing"),
        ("客人说信伊斯兰教，不吃猪肉", "religious-dietary"),
        ("he's hindu, no beef please, he told us", "religious-dietary"),
        ("客人说腿受伤了，要靠门口的位置", "disability"),
        ("客人说胃不好，不要辣", "health-need"),
    ],
)
def test_needs_stated_in_mixed_notes_or_beside_their_diet_are_held_for_consent(
    note: str, category: str
) -> None:
    result = screen(note)
    assert result.verdict == "sensitive"
    assert category in result.sensitive_categories


@pytest.mark.parametrize(
    ("note", "category"),
    [
        ("客人話視力唔好，菜單要大字", "disability"),
        ("佢話有咗BB，唔好生冷嘢", "pregnancy"),
        ("佢話唔食牛肉，信印度教", "religious-dietary"),
        ("he told us he has celiac disease, gluten free please", "health-need"),
        ("客人说在打胰岛素，饮料要无糖", "health-need"),
        ("客人话耳仔唔灵，讲慢啲", "hearing"),
        ("客人说她expecting，菜要全熟", "pregnancy"),
    ],
)
def test_needs_stated_in_cantonese_colloquial_or_medical_words_are_never_stored(
    note: str, category: str
) -> None:
    result = screen(note)
    assert result.verdict in ("sensitive", "review", "reject")
    assert category in result.sensitive_categories


@pytest.mark.parametrize(
    "note",
    ["works at the bank downstairs", "在楼下银行上班", "係做金融嘅", "works for the council"],
)
def test_where_the_customer_works_is_held(note: str) -> None:
    assert screen(note).verdict in ("reject", "review")


@pytest.mark.parametrize(
    "note", ["要两张BB椅", "speak up a bit, it's loud in here", "菜要少盐少油"]
)
def test_service_notes_near_a_condition_word_are_not_refused(note: str) -> None:
    assert screen(note).verdict != "reject"


@pytest.mark.parametrize(
    "note",
    [
        "上次鱼里有刺，客人投诉",
        "客人投诉上菜太慢",
        "complained the beer was warm, swapped it",
        "上次dessert太甜，客人complain了",
        "kid felt sick after the ride here, brought a bag",
    ],
)
def test_a_complaint_about_the_food_or_the_service_is_never_refused(note: str) -> None:
    assert screen(note).verdict in ("allow", "review")


@pytest.mark.parametrize(
    "note",
    [
        "就爱投诉，想白吃",
        "complains about everything just to get a free meal",
        "professional complainer",
        "成日投訴想食霸王餐",
    ],
)
def test_a_judgement_of_the_customer_is_still_held(note: str) -> None:
    assert screen(note).verdict in ("reject", "review")
