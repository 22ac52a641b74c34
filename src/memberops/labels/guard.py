"""The label guard: decides whether a staff note about a member may be stored.

Seed 000: Haidilao staff recorded "1.68 m, glasses, long hair, big round face, about 25"
and "loves to report us on the app" next to "no onions in the spicy hot pot". The chain's
own rule, which this guard enforces (PRODUCT.md §5): staff may record dining and service
needs, never the person's body, looks, age, origin, beliefs, health, orientation, wealth,
job or character.

A list of forbidden words is never complete, while the ways to serve a customer are
few, so the guard turns the question around. Each clause of a note must be recognisably
a service need (a dish, cooking, a drink, seating, party, an occasion, a form of
address, pace, packing, billing, an incident and its remedy, tier benefits):

* every clause recognised, nothing forbidden → ``allow``; a clause with a need word and
  words the lists do not know counts as recognised when the clause model
  (``guard_model``) reads it as a service need, and an incident whose object is a hair
  or a sleeve ("found a hair in the broth") is an incident, not a description;
* a clause names a sensitive need the customer stated (allergy, halal, pregnancy,
  wheelchair, sight, mobility, diabetes, hearing) → ``sensitive``: stored only with
  consent;
* a clause that would be a plain need but names a health, faith, pregnancy or
  disability condition ("客人话视力唔好，菜单要大字") is never stored: held for consent
  when the customer told us, otherwise reviewed with the need named; where the customer
  works ("works at the bank downstairs") is reviewed;
* a clause neither recognised nor clearly forbidden, or recognised but touching a
  forbidden word ("found a hair in the broth"), or made of service words that describe
  the person ("人很冷", "very sweet") → ``review``: a manager decides, with the reason,
  before anything is stored;
* a clause with a describing word that also carries service content (an event that
  happened to a hair, an eye or a sleeve: "风扇把客人头发吹乱了"; what staff did about it;
  a bill or a voucher; a request about the food: "唔好太肥") is near the line →
  ``review``, not a refusal;
* a clause with a forbidden word that also names a dish, a fault in the food or the
  service or what staff did ("客人投诉汤太咸", "complained the beer was warm"), or a bare
  judgement beside such a fault in the note ("上次鱼里有刺，客人投诉") → ``review``;
* a clause clearly describes or judges the person and carries nothing else (the
  forbidden lexicon, or a guess about a condition: "looks pregnant", "好像怀孕了") →
  ``reject``, and the remainder suggests the acceptable part.

The forbidden lexicon (``guard_lexicon``) is the second signal, not the only one.
``screen`` is pure and its spans index the original note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from memberops.labels import guard_lexicon
from memberops.labels.guard_model import load_model
from memberops.labels.guard_text import (
    GuardText,
    english_words,
    load_text_tools,
    read_word_file,
)

__all__ = [
    "ClauseVerdict",
    "Screening",
    "Span",
    "Verdict",
    "clause_readings",
    "load_guard",
    "screen",
]

Verdict = Literal["allow", "reject", "sensitive", "review"]
ClauseState = Literal["need", "sensitive", "review", "forbidden"]

FORBIDDEN_CATEGORIES = (
    *guard_lexicon.FORBIDDEN_CATEGORIES,
    "body",
    "looks",
    "clothing",
    "wealth",
    "occupation",
)
SENSITIVE_CATEGORIES = (
    *guard_lexicon.SENSITIVE_CATEGORIES,
    "pregnancy",
    "access",
    "hearing",
)
UNRECOGNISED = "unrecognised"


# A flagged phrase; ``start``/``end`` index the original note (one class for both signals).
Span = guard_lexicon.Span


@dataclass(frozen=True)
class ClauseVerdict:
    """What the guard made of one clause (offsets into the original note)."""

    start: int
    end: int
    state: ClauseState
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Screening:
    """The guard's decision about one note.

    ``remainder`` is what could be stored instead: the whole note when allowed, the
    recognised clauses when a clause is refused or held for review, None when nothing is.
    """

    text: str
    verdict: Verdict
    reasons: tuple[str, ...]
    spans: tuple[Span, ...]
    remainder: str | None
    sensitive_categories: tuple[str, ...]
    clauses: tuple[ClauseVerdict, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dictionary of the screening."""
        return {
            "text": self.text,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "spans": [
                {"start": s.start, "end": s.end, "category": s.category, "text": s.text}
                for s in self.spans
            ],
            "remainder": self.remainder,
            "sensitive_categories": list(self.sensitive_categories),
            "clauses": [
                {"start": c.start, "end": c.end, "state": c.state, "categories": list(c.categories)}
                for c in self.clauses
            ],
        }


# Words that make a condition a guess about the person rather than what they told us.
_GUESS = re.compile(
    r"好像|像是|看着|看起来|看上去|估计|应该(?!要)|似乎|大概是|可能|疑似|像个|好似|吧$"
    r"|\b(?:looks?|looking|seems?|probably|maybe|might be|apparently|guess|i think)\b|\?"
)
# Words that say the customer told us (a stated need, not a guess).
_STATED = re.compile(
    r"客人说|顾客说|客人话|自己说|告诉|表示|说|话|要求"
    r"|\b(?:told us|said|says|asked|mentioned|informed|let us know|stated)\b"
)
# An incident and what was done about it: a body word here is the incident, not a
# description ("found a hair in the broth, comped the dish").
_INCIDENT = re.compile(
    r"已|道歉|致歉|免单|赔|补送|退款|处理|换菜|送了|药膏|冰袋|急救|洗衣"
    r"|\b(?:comped|comp|apologi[sz]ed|refunded|replaced|first aid|ice pack|paid the"
    r"|gave|offered|compensated|last (?:time|visit)|birthday|cake|candles?|anniversary)\b"
    r"|生日|蛋糕|纪念日|表演"
)
# Sensitive needs named outright (not a condition that needs a stated need beside it).
_DIRECT_NEED = re.compile(
    r"过敏|不耐受|清真|轮椅|无障碍|导盲|助听器|听力|孕"
    r"|拐杖|拄拐|助行器|\b(?:allerg\w*|intoleran\w*|halal|kosher|wheel ?chairs?|step-free"
    r"|guide dog|hearing|pregnan\w*|epi-?pen|crutch\w*|walker|walking (?:stick|frame)"
    r"|mobility scooter|braille|cane)\b"
    r"|allerg|wheelchair|halal|pregnan"
)
_EN_SENSITIVE = (
    (re.compile(r"allerg|intoleran|epi-?pen"), "allergy"),
    (re.compile(r"halal|kosher"), "religious-dietary"),
    (re.compile(r"pregnan|\bexpecting\b(?!\s*\?)"), "pregnancy"),
    (
        re.compile(
            r"wheel ?chair|step-free|guide dog|crutch|walking (?:stick|frame)|mobility scooter"
            r"|braille|visually impaired|low vision|partially sighted|reduced mobility"
            r"|limited mobility|(?:uses?|with) a (?:walking )?cane"
        ),
        "disability",
    ),
    (
        re.compile(
            r"hard of hearing|hearing aid|hearing loss|hearing[- ]impaired|cochlear|lip[- ]?read"
            r"|sign language|(?<![a-z])deaf(?![a-z])"
        ),
        "hearing",
    ),
    (
        re.compile(
            r"diabet|insulin|blood sugar|gout|blood pressure|low sodium|coeliac|celiac"
            r"|dialysis|kidney (?:disease|problem)|heart condition"
        ),
        "health-need",
    ),
    (re.compile(r"\bdue (?:next|this|in)\b|\bbreastfeed|with twins"), "pregnancy"),
    (
        re.compile(
            r"poor eyesight|eyesight|blind in (?:one|both|his|her|the)|zimmer|walking aid"
            r"|prosthe"
        ),
        "disability",
    ),
)
# The clause model's thresholds (scripts/guard_train.py --measure reports what they change).
# A clause of service words only that the model finds this person-like goes to review;
# a clause with a need word and unknown words that it finds this service-like is a need.
MODEL_REVIEW_AT = 1.0
MODEL_NEED_BELOW = 0.1
# An incident in which a body or clothing word is the object, not a description: a hair
# found in the soup, sauce on a jacket, a hand burned on the pot, a sleeve caught.
_INCIDENT_OBJECT = re.compile(
    r"(?:头发|毛发|衣服|衣袖|袖子|袖口|外套|裤子?|裙子|鞋|手|手臂|胳膊|手指|手背|脸|块面|额头|衫)"
    r".{0,6}(?:掉进|掉到|掉在|溅|弄脏|弄湿|洒|烫|烧到|烧着|勾到|勾破|卡住|沾|蹭|碰到|磕|撞|夹|熏)"
    r"|(?:溅|洒|泼|弄脏|烫|烧|吃出|吃到|找到|发现|沾|蹭|碰到|滴|打翻|倒泻|泻)"
    r".{0,6}(?:头发|毛发|衣服|衣袖|袖子|袖口|外套|裤子|裙子|鞋|衫|手|手臂|胳膊|脸|额头)"
    # what staff do for the customer's things: hang the coat, a band to tie the hair
    r"|(?:挂|放|收|保管).{0,3}(?:外套|大衣|衣服)|(?:外套|大衣|衣服).{0,4}(?:挂|放|收|保管)"
    r"|(?:扎|绑).{0,2}头发|眼镜.{0,4}(?:熏|雾|花了|起雾)|(?:挂|放).{0,3}包|包.{0,3}(?:挂|放)"
    r"|\b(?:hang|hung|take|check)\b.{0,12}\b(?:coat|jacket)s?\b"
    r"|\btie (?:up )?(?:her|his|the)? ?hair"
    r"|\bglasses\b.{0,12}\bfog\w*|\bhook\b.{0,16}\b(?:hand)?bag"
    r"|(?:汤|锅|锅底|菜|碗|碟|饭|面|饺子|里|入面).{0,3}有.{0,2}(?:头发|毛发)"
    r"|\b(?:hair|eyelash)s?\b.{0,25}\b(?:in|inside)\b.{0,12}\b(?:soup|broth|"
    r"dish|bowl|noodles|dumplings?|pot|salad|rice|food|sauce|dip|plate|tea|drink|dessert|cake"
    r"|tofu|meat|fries)\b"
    r"|\b(?:found|was|were|spotted)\b.{0,6}\b(?:a|an|some)?\s*(?:hair|eyelash)"
    r"|\b(?:spill\w*|splash\w*|stain\w*|soak\w*|drip\w*|got (?:sauce|oil|soup|broth|tea|water))"
    r".{0,25}\b(?:jacket|coat|shirt|dress|sleeve|trousers|pants|skirt|shoes?|bag|face|hand"
    r"|arm|clothes|tie|lap)\b"
    r"|\b(?:jacket|coat|shirt|dress|sleeve|trousers|pants|skirt|shoes?|bag|hand|finger|arm"
    r"|clothes|face|forehead)\b.{0,20}\b(?:splash\w*|stain\w*|spill\w*|caught|burn\w*"
    r"|scald\w*|soaked|dirty|got (?:sauce|oil|soup|broth|juice)|bumped|touched|hit)\b"
)
_INCIDENT_OBJECT_CATEGORIES = frozenset({"appearance", "looks", "clothing", "body"})
# Something happened to the customer or staff did something for them: a passive (被, 俾),
# a disposal (把), a result (进了, 吹乱), a remedy given, an amount charged or refunded.
_EVENT = re.compile(
    r"把|被|俾|给了|拿了|送了|帮忙|帮客人|幫|进了|入了|弄|碰|撞|摔|跌|滑倒|擦伤|受伤|烫|溅|洒|泼"
    r"|吹|沾|滴|熏|夹到|勾|扯|湿|脏了|换了|换位|调低|调高|调了|退|赔|算错|多算|少算"
    r"|\b(?:got|get|was|were|bumped|slipped|fell|tripped|spilled|splashed|caught|stained"
    r"|burn\w*|scald\w*|cut|scratched|soaked|hit|brought|gave|offered|helped|moved|refund\w*"
    r"|charged|overcharged|comped|wiped|dipped|dropped|landed|touched|knocked)\b"
)
# A request for the dish, the table or the service.
_ASK = re.compile(
    r"(?:^|(?<=[，,\s]))(?:要|加|走)|不要|唔要|唔好|别|別|少放|多放|来一|來一"
    r"|来一份|来一碗|来一盘|一份|一碗|一碟|一盘"
    r"|\b(?:please|extra|no|less|not too|wants?|asks? for|prefers?)\b"
)
# What staff did about an incident, anywhere in the note.
_REMEDY = re.compile(
    r"给了|给客人|拿了|拿个|送了|帮|幫|俾咗|俾客人|攞咗|换了|清理|道歉|赔|退款|退了|免单|处理"
    r"|打了.折|叫了|叫车|代驾"
    r"|\b(?:apologi[sz]ed|comped|refunded|replaced|gave|give|offer\w*|brought|bring|helped"
    r"|cleaned|paid|covered|called (?:a )?(?:cab|taxi))\b"
)
# Words that ask or explain a service: a clause with one of them next to a describing
# word is near the line rather than a plain description.
_SERVICE_CUE = re.compile(
    r"账单|买单|埋单|结账|发票|打折|折扣|[一二三四五六七八九]折|优惠|券|积分|会员|退款|差价|打包"
    r"|\b(?:bill|invoice|receipt|discount|voucher|refund\w*|points|member)\b"
)

# A fault in the food or the service, the dish or the service itself, or what went wrong
# on the visit: a judgement word beside it ("客人投诉汤太咸", "complained the beer was
# warm") is about the food or the service, not a description of the person.
_SERVICE_CONTENT = re.compile(
    r"太(?:咸|鹹|淡|甜|辣|油|腻|酸|苦|腥|硬|软|老|生|慢|久|耐|吵|冷|凉|凍|冻|热|少|贵|烫|韧|干|稀)"
    r"|不新鲜|唔新鲜|不熟|未熟|夹生|煮破|煮烂|烧焦|焦了|糊了|凉了|冷了|冻咗|凍咗|化了|变质|坏了"
    r"|膻|腥|异物|没擦|冇抹|上错|上漏|漏单|漏了|多收|少收|收错|算错|等位|等太|等了|上菜|菜量"
    r"|锅底|汤|菜|鱼|肉|饭|面|粉|虾|饺子|甜品|饮料|啤酒|茶|酒水|空调|冷气|音乐|噪音|太吵|wifi"
    r"|桌子|包间|座位|位子|服务员|服务|收银|账单|外卖|送餐|餸|羊|牛|鸡|鸭"
    r"|\b(?:too (?:salty|bland|sweet|spicy|oily|greasy|cold|hot|loud|slow|noisy|tough|dry|long)"
    r"|under ?cooked|over ?cooked|burnt|burned|raw|cold|warm|soggy|stale|bland|salty|slow|loud"
    r"|noise|noisy|music|draft|wifi|wait\w*|late|wrong|soup|broth|rice|noodles?|dumplings?"
    r"|beer|wine|drinks?|fish|steak|lamb|beef|pork|chicken|duck|dish\w*|food|meal|service"
    r"|table|bill|order|dessert|waiter|waitress|staff|delivery|refill|portion|plate|bowl)\b"
)


def _service_content(norm: str, reading: str) -> bool:
    """Whether a clause carries dish, service, incident or remedy content.

    A clause that does is at most held for review: only a description or a judgement of
    the person with nothing else in the clause is refused outright.
    """
    return bool(
        _SERVICE_CONTENT.search(reading) or _REMEDY.search(reading) or _INCIDENT.search(norm)
    )


def _judgement_only(forbidden: list[str]) -> bool:
    """Whether a clause's describing words are all judgements (a complaint, a temper)."""
    return bool(forbidden) and set(forbidden) <= _JUDGEMENT_CATEGORIES


_JUDGEMENT_CATEGORIES = frozenset({"disparaging", "personality"})
_EVENT_CATEGORIES = _JUDGEMENT_CATEGORIES | {"health"}


def _near_the_line(norm: str, reading: str, forbidden: list[str]) -> bool:
    """Whether a clause with a describing word also carries service content.

    A body, looks or clothing word inside an event ("客人头发被吹乱", "眼睛进了油烟",
    "把头发扎起来") or next to a bill or a voucher is probably the incident or the
    service, not a description; a manager decides instead of the guard refusing. Not
    used where the incident-object rule already set the incident's words aside: a word
    left outside them ("胖子衣服被汤溅到了") describes the person.
    """
    if _SERVICE_CUE.search(reading):
        return True
    categories = set(forbidden)
    if categories <= _INCIDENT_OBJECT_CATEGORIES | {"body-measurement"} and _ASK.search(reading):
        # "唔好太肥", "帅哥虾滑来一份": a request about the food or the table, with a word
        # that can also describe a person
        return True
    if categories <= _INCIDENT_OBJECT_CATEGORIES | {"disparaging"} and _REMEDY.search(norm):
        # "衣服上滴了火锅汤，给了去污笔", "喝多了吐了，帮忙清理": what staff did about it
        return True
    return categories <= _INCIDENT_OBJECT_CATEGORIES and bool(_EVENT.search(reading))


# A clause that only says who told us ("she told us", "客人说的"): adds nothing, hides nothing.
_ATTRIBUTION = re.compile(
    r"(?:客人|顾客|客户|他|她)?(?:自己)?(?:说|讲|话|提到|告诉我们|要求)(?:的|了|过)?"
    r"|(?:(?:s?he|they|the (?:customer|guest)) )?(?:told us|said so|mentioned it|asked for it"
    r"|asked|mentioned)(?: (?:it|that|so))?"
)
_POINTING = re.compile(
    r"的那个|的那位|那个人|那位客人|别给[他她]|不给[他她]|不要给[他她]|少给[他她]"
    r"|\b(?:the one (?:with|in|who)|don'?t give (?:him|her|them)|do not give|no (?:discount|free)"
    r" for (?:him|her|them))\b"
)
_REASONS = {
    "pointing": "a clause points at the person, guesses about them or asks to treat them"
    " differently; a manager reviews it",
    "trait": "a clause of taste or temperature words reads like a description of the"
    " person; a manager reviews it",
    "model": "a clause made of service words reads like a description of the person;"
    " a manager reviews it",
    UNRECOGNISED: "a clause is not a recognised service need (dish, drink, seating, party,"
    " occasion, address, pace, packing, billing, incident, tier); a manager reviews it",
    "conflict": "a recognised service need touches a word that can describe the person;"
    " a manager reviews it",
    "guess": "guesses the customer's condition instead of recording what they told us",
    "signal": "a clause names a health, faith, pregnancy or disability condition; a manager"
    " checks whether the customer stated it before anything is stored",
    "body": "describes the customer's body",
    "looks": "describes the customer's looks",
    "clothing": "describes the customer's clothing",
    "wealth": "guesses the customer's wealth or class",
    "occupation": "guesses the customer's job or education",
    "pregnancy": "records a pregnancy (store only with the member's consent)",
    "access": "records an accessibility need (store only with the member's consent)",
    "hearing": "records a hearing need (store only with the member's consent)",
}
_ADDRESS = re.compile(
    r"称呼|叫他|叫她|叫我|\b(?:call(?:ed)? (?:him|her|me)|first name|ms|mr|mrs|dr)\b"
)
_SENSITIVE_MAP: dict[str, str] = {}


@dataclass(frozen=True)
class _Lists:
    service_zh: frozenset[str]
    service_en: frozenset[str]
    # Service words that make a need on their own (not "glue" such as 的, likes, the).
    anchors: frozenset[str]
    glue: frozenset[str]
    forbidden_zh: dict[str, str]
    forbidden_en: dict[str, str]
    sensitive_zh: dict[str, str]


@dataclass(frozen=True)
class _Guard:
    text: GuardText
    lists: _Lists


@cache
def load_guard() -> _Guard:
    """Load the word lists and the text tools (once per process, well under a second)."""
    service_zh_words = read_word_file("service_zh.txt")
    service_en_words = read_word_file("service_en.txt")
    service_zh = frozenset(service_zh_words)
    service_en = frozenset(service_en_words)
    # A word that can also describe a person (头发, cold, hot) joins a need but does not
    # make one: "cold beer" is a need, "cold" alone is not.
    person_words = set(read_word_file("forbidden_zh.txt")) | set(read_word_file("forbidden_en.txt"))
    anchors = frozenset(
        w
        for words in (service_zh_words, service_en_words)
        for w, c in words.items()
        if c != "glue" and w not in person_words
    )
    forbidden_en = {
        w: c for w, c in read_word_file("forbidden_en.txt").items() if w not in service_en
    }
    lists = _Lists(
        service_zh=service_zh,
        service_en=service_en,
        anchors=anchors,
        glue=frozenset(
            w
            for words in (service_zh_words, service_en_words)
            for w, c in words.items()
            if c == "glue"
        ),
        forbidden_zh=read_word_file("forbidden_zh.txt"),
        forbidden_en=forbidden_en,
        sensitive_zh=read_word_file("sensitive_zh.txt"),
    )
    load_model()
    return _Guard(load_text_tools(), lists)


_CJK = re.compile(r"[\u3400-\u9fff]")


def _stem(word: str) -> list[str]:
    forms = [word]
    for suffix in ("'s", "s", "es", "ed", "ing"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            forms.append(word[: -len(suffix)])
    return forms


_REQUEST_WORDS = frozenset(
    {"要", "不要", "不吃", "不喝", "不放", "别放", "少", "多", "加", "免", "去掉", "太"}
)


def _read_clause(
    guard: _Guard, clause: str, *, pinyin: bool = False
) -> tuple[bool, bool, list[str]]:
    """(every word recognised, a need word among them, forbidden categories of its words).

    A clause read from pinyin needs a service word of two syllables or more: one
    syllable has too many homophones (men: 门 or 闷) to make a need on its own.
    """
    lists = guard.lists
    known = 0
    anchor = 0
    unknown = 0
    forbidden: list[str] = []
    previous = ""
    glue = 0
    if _CJK.search(clause):
        for word in guard.text.segment(re.sub(r"[a-z0-9.'\- ]+", " ", clause)):
            word = word.strip()
            if not word:
                continue
            if word in lists.forbidden_zh and word not in lists.service_zh:
                if pinyin and len(word) == 1:
                    # One syllable has too many homophones (kou: 口, 扣 or 抠) to refuse
                    # on: the clause stays unrecognised and a manager decides.
                    unknown += 1
                    previous = word
                    continue
                forbidden.append(lists.forbidden_zh[word])
            if word in lists.service_zh:
                known += 1
                # In pinyin a one-syllable need word counts after a request word
                # ("bu yao cong": 不要葱), not on its own ("hen men": 很焖 or 很闷).
                anchor += word in lists.anchors and (
                    not pinyin or len(word) > 1 or previous in _REQUEST_WORDS
                )
            else:
                unknown += 1
            previous = word
    for word in english_words(clause):
        if word[0].isdigit():
            continue
        forms = _stem(word)
        if any(f in lists.service_en for f in forms):
            known += 1
            anchor += any(f in lists.anchors for f in forms)
            glue += any(f in lists.glue for f in forms)
            continue
        unknown += 1
        for f in forms:
            if f in lists.forbidden_en:
                forbidden.append(lists.forbidden_en[f])
                break
    if unknown and _ADDRESS.search(clause):
        # "call her Ms. Wong", "叫他小张": the name the customer asked for is not a need
        # word but belongs to the need; allow up to two such words.
        unknown = max(0, unknown - 2)
        anchor += 1  # asking to be called something is itself the need
    # A short English clause of glue words only ("told us", "please") adds nothing; in
    # Chinese or pinyin glue alone can still say something (快六十了吧), so it is not.
    glue_only = not _CJK.search(clause) and 0 < known <= 2 and glue == known
    return unknown == 0 and (anchor > 0 or glue_only), anchor > 0, forbidden


def _person_like(reading: str) -> float:
    model = load_model()
    return model.forbidden_probability(reading) if model is not None else 0.0


def _service_like(reading: str) -> bool:
    """Whether the clause model reads the clause as a service need (False without one)."""
    model = load_model()
    return model is not None and model.forbidden_probability(reading) < MODEL_NEED_BELOW


def _reading(guard: _Guard, clause: str) -> str:
    """The clause as the guard reads it: a pinyin clause in characters, else itself."""
    if not clause.isascii() or _CJK.search(clause):
        return clause
    pinyin = guard.text.pinyin_to_hanzi(clause)
    words = english_words(clause)
    english = sum(
        any(f in guard.lists.service_en or f in guard.lists.forbidden_en for f in _stem(w))
        for w in words
    )
    if pinyin is not None and pinyin[1] > 0 and english * 2 < len(words):
        return pinyin[0]
    return clause


def clause_readings(text: str) -> list[str]:
    """Each clause of ``text`` as the guard reads it (simplified, lower case, pinyin in
    characters): what the clause model is trained on and scores."""
    guard = load_guard()
    norm = guard_lexicon._normalise(guard.text.simplify(text))
    return [_reading(guard, norm[a:b]) for a, b in guard_lexicon._clauses(norm)]


_NOT_A_NEED = re.compile(
    r"瞎|瘸|聋子|哑巴|残疾|残障|身体不好|生病|有病|病恹恹"
    r"|\b(?:cripple\w*|disabled|disability|handicapped|retard\w*|sick\w*|ill|illness)\b"
)


def _needs_nearby(norm: str, clauses: list[tuple[int, int]], span: Span) -> bool:
    """A condition is a stated need when its own clause or the next one states a need."""
    cue = guard_lexicon._ACCESS_NEED if span.category == "disability" else guard_lexicon._DIET_NEED
    masked = norm[: span.start] + " " * (span.end - span.start) + norm[span.end :]
    # A religion is a need only with the need in its own clause ("信佛吃素"); "catholic
    # family, halal only" keeps "halal only" and refuses the religion.
    # A health condition may take its need from the clause before or after ("diabetic,
    # sugar-free drinks"), but only a restriction ("no", "less", "不要"), not any food word.
    # An access condition may take its need from the next clause ("visually impaired, read
    # the specials aloud"); a slur ("瞎子", "crippled") or a bare label of disability or
    # illness ("残疾", "身体不好") never becomes a need that way.
    derogatory = _NOT_A_NEED.search(norm, span.start, span.end)
    for index, (c_start, c_end) in enumerate(clauses):
        if c_start <= span.start < c_end:
            if cue.search(masked, c_start, c_end):
                return True
            if derogatory:
                return False
            if span.category == "religious-dietary":
                # "客人说信伊斯兰教，不吃猪肉", "hindu, no beef please, he told us": the
                # customer told us, and the next clause is the diet the faith asks for.
                # Round 9: the diet may also come first ("佢話唔食牛肉，信印度教", "he said
                # no beef, he's hindu"), the telling in either clause.
                nearby = [*clauses[max(0, index - 1) : index], *clauses[index + 1 : index + 2]]
                stated = any(_STATED.search(norm, a, b) for a, b in [*nearby, (c_start, c_end)])
                stated = stated or any(
                    _ATTRIBUTION.fullmatch(norm[a:b].strip(" .!。")) for a, b in clauses
                )
                return bool(stated) and any(cue.search(masked, a, b) for a, b in nearby)
            if span.category == "disability":
                return any(cue.search(masked, a, b) for a, b in clauses[index + 1 : index + 2])
            named = _CONDITION_NEED["health-need"].search(norm, span.start, span.end)
            before = clauses[max(0, index - 1) : index] if named else []
            beside = [*before, *clauses[index + 1 : index + 2]]
            return span.category == "health-need" and any(
                _CONDITION_CUE.search(masked, a, b) for a, b in beside
            )
    return False


_HEARING = re.compile(
    r"聋|听力|听障|耳背|听不[见清到]|听唔[到清]|耳仔|耳朵|人工耳蜗|手语"
    r"|\b(?:deaf|hard of hearing|hearing|cochlear|lip[- ]?read\w*|sign language)\b",
    re.ASCII,
)
# How staff serve someone who does not hear well: writing, a tablet, facing them.
_HEARING_NEED = re.compile(
    r"写|文字|手语|平板|屏幕|大声|当面|面对|慢慢说|说清楚|口型|唇|纸|安静|看着|慢"
    r"|\b(?:write|writ\w+|written|tablet|screen|text|sign|speak|face|facing|clearly|slowly"
    r"|point|menu|loud\w*|quiet|lips?)\b"
)


_DEVICE = re.compile(
    r"助听器|轮椅|拐杖|助行器|\b(?:hearing aids?|wheel ?chairs?|crutch\w*|walker)\b"
)
# "face her when speaking": face as a verb, how to speak to someone who lip-reads.
_FACE_VERB = re.compile(r"face (?:him|her|them|the (?:customer|guest))\b")
_DEVICE_WORDS = re.compile(r"戴|用|\b(?:wears?|wearing|uses?|face)\b")
_CONDITION_NEED = {
    "pregnancy": re.compile(r"孕|\bpregnan\w*"),
    "health-need": re.compile(
        r"糖尿病|高血压|痛风|胃不好|肠胃不好|胃病|胃溃疡|胃炎|血糖|乳糜泻|肾病"
        r"|\b(?:diabet\w*|gout|blood pressure|stomach|coeliac|celiac|kidney|heart)\b",
        re.ASCII,
    ),
}
# Needs a stated condition may come with, beyond the lexicon's dietary cues.
_CONDITION_CUE = re.compile(
    r"熟|换|生冷|冰|常温|少|不要|别|无糖|低|忌|唔食|唔要|唔饮|走甜|清淡"
    r"|\b(?:no|without|cooked|well done|instead|less|low|avoid|only|swap|free of|free)\b"
    r"|\w-free\b"
)


def _stated_condition(
    norm: str, clause: str, clauses: list[tuple[int, int]], span: Span
) -> str | None:
    """The sensitive need a condition span states, or None when it only describes.

    Stated means: the customer told us (客人说, "told us") or a need comes with it in the
    same or the next clause, and no guess marker ("looks", "好像", "?") is present.
    """
    if span.category != "health" or _GUESS.search(clause):
        return None
    text = norm[span.start : span.end]
    for need, pattern in _CONDITION_NEED.items():
        if not pattern.search(text):
            continue
        if _STATED.search(clause):
            return need
        masked = norm[: span.start] + " " * (span.end - span.start) + norm[span.end :]
        for index, (c_start, c_end) in enumerate(clauses):
            if c_start <= span.start < c_end:
                # The need may come before the condition too ("low sugar, diabetic").
                nearby = clauses[max(0, index - 1) : index + 2]
                if any(_CONDITION_CUE.search(masked, a, b) for a, b in nearby):
                    return need
    return None


def _splits_a_need_word(
    guard: _Guard, words: list[tuple[str, int, int]], start: int, end: int
) -> bool:
    """Whether a lexicon phrase cuts across, or lies inside, a service word the
    segmenter found (年纪 in 周年纪念, 脸 in 变脸)."""
    for word, a, b in words:
        overlaps = a < end and start < b
        outer = start <= a and b <= end
        if word in guard.lists.anchors and overlaps and not outer:
            return True
    return False


def _hearing_need_nearby(norm: str, clauses: list[tuple[int, int]], span: Span) -> bool:
    masked = norm[: span.start] + " " * (span.end - span.start) + norm[span.end :]
    for index, (c_start, c_end) in enumerate(clauses):
        if c_start <= span.start < c_end:
            return any(_HEARING_NEED.search(masked, a, b) for a, b in clauses[index : index + 2])
    return False


# A person, then a degree word ("人很冷", "他挺好", "she's so sweet"): what follows
# describes them, even when every word is also a word of taste or temperature.
_TRAIT_SUBJECT = re.compile(
    r"(?<![个位几两三四五六七八九十客家大小老多一每众])(?:这个?人|此人|为人|本人|人|他|她|性子|嘴)"
    r"(?:很|挺|特别|比较|超级?|非常|蛮|有点|有些|太|真|也很|十分|相当)(?![多少齐满挤])"
    r"|\b(?:he|she|they)(?:'s| is| are|'re)\s+(?:very |really |quite |so |a bit |always |super )?"
    r"(?:sweet|cold|warm|hot|spicy|salty|sour|soft|hard|quick|slow|nice|good|fine|great|lovely"
    r"|easy|fun|cool|mild|sharp|bitter)\b"
    r"|\b(?:sweet|cold|warm|nice|lovely|good|cool|salty|sour|bitter|spicy|mild|soft|sharp)"
    r" (?:guy|man|woman|lady|person|chap|soul|gentleman|girl|boy|type)\b"
)
# Words of taste, temperature and manner that describe a dish, a seat or a person; a
# clause whose need words are only these, after a degree word and with no request, is a
# description ("很甜", "冷冰冰", "very sweet"), not a need.
_PREDICATES = frozenset(
    [
        *"甜咸淡酸辣麻冷凉温热烫软硬嫩脆烂快慢好亮冰",
        *("冰冰", "安静", "明亮", "宽敞", "新鲜", "清淡", "油腻"),
        *("sweet", "salty", "sour", "bland", "spicy", "mild", "cold", "warm", "soft", "firm"),
        *("tender", "crispy", "quick", "slow", "fast", "bright", "cosy", "cozy", "fresh"),
        *("lean", "fatty", "thin", "thick"),
    ]
)
_DEGREE = re.compile(
    r"很|挺|特别|非常|超|蛮|比较|有点|有些|太|真|十分|相当|冰冰"
    r"|\b(?:very|really|quite|so|super|too|rather|extremely)\b"
)
_REQUEST = re.compile(
    r"要|少|多|加|免|去|别|喜欢|爱|偏好|只|不|微|走|换|来|点|一点|些"
    r"|\b(?:no|not|less|more|extra|likes?|loves?|prefers?|wants?|please|only|without|asks?"
    r"|needs?|keep|make|bring|serve|get|order\w*)\b"
)


def _trait_of_person(guard: _Guard, reading: str) -> bool:
    """Whether a clause of service words describes the person ("人很冷", "很甜")."""
    if _TRAIT_SUBJECT.search(reading):
        return True
    if not _DEGREE.search(reading) or _REQUEST.search(reading):
        return False
    words = guard.text.segment(reading) if _CJK.search(reading) else english_words(reading)
    anchors = [w for w in words if w in guard.lists.anchors]
    return bool(anchors) and all(w in _PREDICATES for w in anchors)


# An ear or an eye named with the hearing or sight the customer told us about.
_SENSE_ORGAN = re.compile(r"耳朵?|眼睛?|\b(?:ears?|eyes?)\b")
_SENSE_NEED = re.compile(
    r"听不|听唔|听力|看不|睇唔|视力|\b(?:hard of hearing|deaf|hearing|sight|vision)\b"
)


# Where the customer works or what they do for a living: never a service need
# ("works at the bank downstairs", "在楼下银行上班", "係做地產嘅"); a manager decides.
_OCCUPATION = re.compile(
    r"(?:在|喺|于).{1,10}(?:上班|工作|打工|返工|做嘢|做事|当差|任职|上学|读书)"
    r"|(?:是|系|係)做.{1,6}(?:的|嘅)|做.{1,4}(?:生意|行业|工作)的|当.{1,4}(?:老师|医生|护士|警察|律师)"
    r"|\b(?:works? (?:at|in|for|as)|working (?:at|in|for|as)|employed (?:at|by)"
    r"|(?:he|she|they)(?:'s| is| are|'re) (?:an? )?(?:lawyer|doctor|nurse|teacher|cop|police\w*"
    r"|banker|engineer|accountant|student|driver|builder|chef|pilot|professor|dentist))\b"
)
# Words of a health, body, faith, pregnancy or disability condition. A clause that
# carries one beside a service need is never stored as a plain need: stated by the
# customer it is held for consent, otherwise a manager decides (the category named).
_SENSITIVE_SIGNAL = (
    (
        re.compile(
            r"孕|有咗.{0,4}(?:个月|bb|身纪)|有咗bb|有了?bb(?![椅凳櫈车])|月子|哺乳|喂奶|产后|怀了"
            r"|\b(?:pregnan\w*|expecting|maternity|breastfeed\w*|due (?:next|this|in))\b"
        ),
        "pregnancy",
    ),
    (
        re.compile(
            r"视力|眼睛(?:不|唔|看不|有问题)|失明|盲|看不[见清到]|睇唔|轮椅|拐杖|手杖|助行|步行器"
            r"|行动不便|行动唔|行路唔|走路不|腿脚不|瘫|义肢|假肢"
            r"|\b(?:eyesight|vision|sight\w*|blind|wheel ?chairs?|crutch\w*|zimmer|walking"
            r" (?:frame|stick|aid)|walker|cane|mobility|prosthe\w*)\b"
        ),
        "disability",
    ),
    (
        re.compile(
            r"耳仔|耳朵(?:不|唔|有点背|背)|耳背|听力|听不[见清到]|听唔|重听|弱听|助听|聋|耳蜗"
            r"|\b(?:deaf\w*|hearing|lip[- ]?read\w*|sign language)\b"
        ),
        "hearing",
    ),
    (
        re.compile(
            r"糖尿|血糖|胰岛素|血压|痛风|尿酸|肾病|透析|洗肾|心脏病|手术|术后|化疗|胆固醇|乳糜泻"
            r"|麸质|\b(?:diabet\w*|insulin|blood (?:sugar|pressure)|gout|kidney|dialysis"
            r"|heart (?:condition|disease|problems?)|surgery|operation|chemo\w*|cholesterol"
            r"|coeliac|celiac|gluten\w*)\b"
        ),
        "health-need",
    ),
    (
        re.compile(r"过敏|敏感|不耐受|\b(?:allerg\w*|intoleran\w*|epi-?pen|anaphyla\w*)\b"),
        "allergy",
    ),
    (
        re.compile(
            r"清真|斋|回教|伊斯兰|穆斯林|犹太|印度教|佛教|信佛"
            r"|\b(?:halal|kosher|jain|hindu\w*|muslims?|jewish|buddhists?)\b"
        ),
        "religious-dietary",
    ),
)


_SCRIPT_CHANGE = re.compile(r"(?<=[\u3400-\u9fff])(?=[a-z])|(?<=[a-z])(?=[\u3400-\u9fff])")


def _sensitive_signal(reading: str) -> str | None:
    """The need a condition word in the clause points to, if any."""
    # English typed against Chinese ("客人说她expecting") keeps its word boundaries.
    reading = _SCRIPT_CHANGE.sub(" ", reading)
    for pattern, category in _SENSITIVE_SIGNAL:
        if pattern.search(reading):
            return category
    return None


# "Dr. Lee", "Mr. Li": the full stop of a title does not end a clause.
_TITLE_STOP = re.compile(r"\b(?:mr|mrs|ms|dr|prof|mx)\.(?= ?[a-z])")


def _clause_ranges(text: str, norm: str) -> list[tuple[int, int]]:
    untitled = _TITLE_STOP.sub(lambda m: m.group(0)[:-1] + " ", norm)
    return guard_lexicon._clauses(untitled)


def screen(text: str) -> Screening:
    """Decide whether a staff note about a member may be stored.

    >>> screen("no onions in the spicy hot pot").verdict
    'allow'
    >>> s = screen("20-30岁，安静，不吃胡萝卜")
    >>> s.verdict, s.remainder
    ('reject', '不吃胡萝卜')
    >>> screen("花生过敏").sensitive_categories
    ('allergy',)
    >>> screen("认出他：国字脸").verdict
    'reject'
    """
    if not text or text.isspace():
        return Screening(text, "allow", (), (), "", ())
    guard = load_guard()
    simplified = guard.text.simplify(text)
    norm = guard_lexicon._normalise(simplified)
    lexicon = guard_lexicon.screen(simplified)
    clauses = _clause_ranges(text, norm)
    spans: list[Span] = [
        Span(s.start, s.end, s.category, text[s.start : s.end]) for s in lexicon.spans
    ]
    reasons: list[str] = []
    sensitive: list[str] = []
    verdicts: list[ClauseVerdict] = []
    incident = bool(_INCIDENT.search(norm))
    # A fault in the food or the service anywhere in the note: a bare judgement clause
    # beside it ("上次鱼里有刺，客人投诉") reports the complaint rather than judging the
    # person, so it is reviewed, not refused.
    note_service = bool(_SERVICE_CONTENT.search(norm))
    # What staff did, anywhere in the note: a judgement or a health word beside it ("kid
    # felt sick after the ride here, brought a bag") is the incident it answered.
    note_remedy = bool(_REMEDY.search(norm))
    stated_needs: list[tuple[Span, str]] = []
    for start, end in clauses:
        clause = norm[start:end]
        lex_forbidden = []
        words = guard.text.word_spans(clause) if _CJK.search(clause) else []
        for s in lexicon.spans:
            if not start <= s.start < end or s.category not in guard_lexicon.FORBIDDEN_CATEGORIES:
                continue
            if _splits_a_need_word(guard, words, s.start - start, s.end - start):
                # "周年纪念" holds "年纪" across two words: segmentation says it is not there.
                continue
            if _HEARING.search(norm, s.start, s.end) and _hearing_need_nearby(norm, clauses, s):
                # "deaf, prefers ordering by tablet": the condition comes with the way to
                # serve them, so it is a stated need, kept for consent.
                stated_needs.append((s, "hearing"))
                continue
            need = _stated_condition(norm, clause, clauses, s)
            if need is not None:
                # "客人说有糖尿病，甜品换水果", "客人怀孕，菜要全熟": told us, with a need.
                stated_needs.append((s, need))
                continue
            if (
                s.category == "appearance"
                and _DEVICE_WORDS.fullmatch(norm[s.start : s.end])
                and (_DEVICE.search(clause) or _FACE_VERB.search(norm, s.start))
            ):
                continue  # "戴助听器", "face her when speaking": how to serve them
            if _SENSE_ORGAN.fullmatch(norm[s.start : s.end]) and _SENSE_NEED.search(clause):
                continue  # "hard of hearing in one ear", "眼睛看不清": the organ of the need
            if any(
                d.start() <= s.start - start and s.end - start <= d.end()
                for d in _DEVICE.finditer(clause)
            ):
                continue  # "aids" of "hearing aids" is the device, not a diagnosis
            lex_forbidden.append(s.category)
        lex_sensitive = [need for s, need in stated_needs if start <= s.start < end]
        for s in lexicon.spans:
            if not (start <= s.start < end) or s.category not in guard_lexicon.SENSITIVE_CATEGORIES:
                continue
            if _HEARING.search(norm, s.start, s.end) and _hearing_need_nearby(norm, clauses, s):
                lex_sensitive.append("hearing")
            elif _DIRECT_NEED.search(norm, s.start, s.end) or _needs_nearby(norm, clauses, s):
                lex_sensitive.append(_SENSITIVE_MAP.get(s.category, s.category))
            else:
                # A condition with no need of its own ("muslim", "基督徒 需要宝宝椅").
                lex_forbidden.append("health" if s.category != "religious-dietary" else "religion")
        for pattern, category in _EN_SENSITIVE:
            if pattern.search(clause):
                lex_sensitive.append(category)
        reading = _reading(guard, clause)
        homophone = False
        if reading != clause:
            # Read as Chinese only: English rules on pinyin ("bo", "fat") misfire.
            lex_forbidden, lex_sensitive = [], []
            spans = [s for s in spans if not start <= s.start < end]
            hanzi = guard_lexicon.screen(reading)
            single = {a for w, a, b in guard.text.word_spans(reading) if b - a == 1}
            for s in hanzi.spans:
                weak = s.end - s.start == 1 and s.start in single
                if weak and s.category in guard_lexicon.FORBIDDEN_CATEGORIES:
                    # A single syllable read as a forbidden character is too weak to
                    # refuse on; the clause goes to review instead of being stored.
                    homophone = True
                elif s.category in guard_lexicon.FORBIDDEN_CATEGORIES:
                    lex_forbidden.append(s.category)
                else:
                    lex_sensitive.append(_SENSITIVE_MAP.get(s.category, s.category))
        covered, anchored, word_forbidden = _read_clause(
            guard, _FACE_VERB.sub("", reading), pinyin=reading != clause
        )
        for word, category in guard.lists.sensitive_zh.items():
            if word in reading:
                lex_sensitive.append(category)
        incident_object = bool(_INCIDENT_OBJECT.search(reading))
        if incident_object:
            # "found a hair in the broth", "衣服被汤溅到": the body or clothing word is
            # what the incident happened to, not a description of the customer.
            # Only the words of the incident are exempt: "有点fat kid's face got sauce"
            # still describes someone outside it.
            masked = reading
            for m in _INCIDENT_OBJECT.finditer(reading):
                masked = masked[: m.start()] + " " * (m.end() - m.start()) + masked[m.end() :]
            rest = {s.category for s in guard_lexicon.screen(masked).spans}
            rest.update(_read_clause(guard, masked, pinyin=reading != clause)[2])
            lex_forbidden = [
                c for c in lex_forbidden if c not in _INCIDENT_OBJECT_CATEGORIES or c in rest
            ]
            word_forbidden = [
                c for c in word_forbidden if c not in _INCIDENT_OBJECT_CATEGORIES or c in rest
            ]
        forbidden = lex_forbidden + word_forbidden
        # The clause splitter drops a trailing "?" ("expecting? no cold drinks").
        asked = norm[end : end + 2].lstrip().startswith("?")
        guess = bool(asked or _GUESS.search(clause) or _GUESS.search(reading))
        guess = guess and not _STATED.search(clause)
        if lex_sensitive and guess:
            forbidden.append("health")
            reasons.append(_REASONS["guess"])
            lex_sensitive = []
        state: ClauseState
        if not forbidden and (_POINTING.search(reading) or (guess and covered) or homophone):
            # "坐轮椅的那个", "别给他优惠", "看上去冰了": who the person is, how to treat
            # them differently, or a guess about them; a manager decides.
            forbidden_free_review = True
        else:
            forbidden_free_review = False
        if forbidden_free_review:
            state = "review"
            reasons.append(_REASONS["pointing"])
        elif forbidden:
            if lex_sensitive and not lex_forbidden and not guess:
                # "deaf, prefers ordering by tablet": the condition is the stated need.
                state = "sensitive"
            elif (
                incident
                or not lex_forbidden
                or (covered and anchored)
                or _service_content(norm, reading)
                or (_judgement_only(forbidden) and note_service)
                or (set(forbidden) <= _EVENT_CATEGORIES and note_remedy)
                or (not incident_object and _near_the_line(norm, reading, forbidden))
            ):
                # Only the word lists object (no lexicon phrase), or the clause also
                # carries service content (a need word, an incident, a bill, what staff
                # did for the customer): near the line, so a manager decides rather than
                # the guard refusing. Only a clause that is a description and nothing
                # else is refused outright.
                state = "review"
                reasons.append(_REASONS["conflict"])
            else:
                state = "forbidden"
        elif lex_sensitive:
            state = "sensitive"
        elif covered and _trait_of_person(guard, reading):
            # "人很冷", "很甜", "she's so sweet": words of taste or temperature after a
            # person and a degree word describe the person; a manager decides.
            state = "review"
            reasons.append(_REASONS["trait"])
        elif covered:
            state = "need"
            if _person_like(reading) >= MODEL_REVIEW_AT:
                # Service words only, but shaped like a description ("张的一般"): the
                # clause model's second opinion sends it to a manager.
                state = "review"
                reasons.append(_REASONS["model"])
        elif _ATTRIBUTION.fullmatch(reading.strip(" .!。")) or (
            not guess
            and not homophone
            and (incident_object or (anchored and _service_like(reading)))
        ):
            # A need word with words the lists do not know ("毛肚鸭肠各一份", "sesame
            # dip"): nothing in the lists objects and the clause model, trained on the
            # corpus, reads it as a service need rather than a description.
            state = "need"
        else:
            state = "review"
            reasons.append(_REASONS[UNRECOGNISED])
        if state == "need" and _OCCUPATION.search(reading):
            # "works at the bank downstairs": where they work is not a service need.
            state = "review"
            reasons.append(_REASONS["occupation"])
            spans.append(Span(start, end, "occupation", text[start:end]))
        signal = None if lex_sensitive else _sensitive_signal(reading)
        if signal is not None and state in ("need", "review"):
            # A condition word beside a need ("客人话视力唔好，菜单要大字", "有咗BB"): told
            # us, it is held for consent; otherwise a manager decides. Never stored.
            lex_sensitive = [signal]
            if state == "need":
                # Read from pinyin, a homophone may have made the word: a manager decides.
                told = _STATED.search(norm) and not guess and reading == clause
                state = "sensitive" if told else "review"
                if state == "review":
                    reasons.append(_REASONS["signal"])
        categories = tuple(dict.fromkeys(forbidden if state != "sensitive" else lex_sensitive))
        if lex_sensitive:
            sensitive.extend(lex_sensitive)
        if state == "forbidden":
            for category in dict.fromkeys([] if lex_forbidden else word_forbidden):
                reasons.append(_REASONS.get(category, f"describes the customer ({category})"))
            if not any(start <= s.start < end for s in spans):
                spans.append(Span(start, end, categories[0], text[start:end]))
        elif state == "review" and not forbidden:
            spans.append(Span(start, end, UNRECOGNISED, text[start:end]))
        verdicts.append(ClauseVerdict(start, end, state, categories))

    states = {v.state for v in verdicts}
    sensitive_categories = tuple(dict.fromkeys(sensitive))
    reasons = list(dict.fromkeys([*lexicon.reasons, *reasons]))
    if "forbidden" not in states:
        # Lexicon reasons for a clause that ended in review are not a refusal.
        reasons = [r for r in reasons if r in _REASONS.values() or "consent" in r]
    kept = [text[v.start : v.end].strip() for v in verdicts if v.state in ("need", "sensitive")]
    joiner = "，" if re.search(r"[，、；。]", text) or all(_CJK.search(k) for k in kept) else ", "
    remainder = joiner.join(k for k in kept if k) or None
    verdict: Verdict
    if "forbidden" in states:
        verdict = "reject"
    elif "review" in states:
        verdict = "review"
    elif "sensitive" in states:
        verdict = "sensitive"
        remainder = None
    else:
        return Screening(text, "allow", (), (), text, (), tuple(verdicts))
    ordered = tuple(sorted(set(spans), key=lambda s: (s.start, s.end, s.category)))
    return Screening(
        text, verdict, tuple(reasons), ordered, remainder, sensitive_categories, tuple(verdicts)
    )
