"""The label guard: decides whether a staff note about a member may be stored.

Seeds 000 and 003 describe how Haidilao's member system ended up holding notes
such as "round face, glasses, 1.68 m", "鹅蛋脸，嘴唇漂亮，栗色头发，大学生" and
"loves to report us on the APP". The chain's own rule, which this module
enforces (PRODUCT.md §5): staff may record *dining needs* ("no onions in the
spicy hot pot", "ice in the lemon juice") but never physical characteristics,
guessed age, ethnicity, religion, health, orientation or disparaging
judgements.

`screen` is a pure function. It works on a normalised copy of the note that has
exactly the same length as the original, so every offset it reports points into
the text the waiter typed:

1. normalise: Traditional → Simplified for the characters the lexicons use,
   full-width → ASCII, lower case, control characters → spaces;
2. split into clauses on punctuation, conjunctions and spaces next to Chinese
   text, so that "20-30岁，安静，不吃胡萝卜" can keep "不吃胡萝卜";
3. in each clause, find forbidden phrases and sensitive needs from lexicons of
   stems and context patterns, then drop the ones that are really food
   ("不吃肥肉", "beef tongue", "skinny fries") or that explain a service item
   ("needs a hair tie");
4. a health condition or a religion stated next to a dietary or access need
   ("diabetic, no sugar", "信佛吃素") is a *sensitive need*, stored only with
   consent; stated on its own ("has diabetes", "Muslim") it describes the
   person and is rejected.

Decisions that are a matter of policy:

* A personality trait of the customer ("quiet", "安静", "shy", "话多") is a
  judgement about the person and is rejected; a preference for a quiet place
  ("prefers a quiet corner", "喜欢安静", "安静的位置") is allowed.
* A blank note is allowed and records nothing (remainder "").
* When a rejected note also holds a sensitive need, its remainder keeps that
  need and ``sensitive_categories`` lists it, so the caller still asks for
  consent before storing the remainder.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["Screening", "Span", "Verdict", "screen"]  # the lexicon signal; see guard.py

Verdict = Literal["allow", "reject", "sensitive"]

# Categories a span may carry. The first group is forbidden outright; the
# second is stored only with the member's consent.
FORBIDDEN_CATEGORIES = (
    "appearance",
    "body-measurement",
    "age",
    "ethnicity",
    "religion",
    "orientation",
    "health",
    "disparaging",
    "personality",
)
SENSITIVE_CATEGORIES = ("allergy", "religious-dietary", "disability", "health-need")


@dataclass(frozen=True)
class Span:
    """A flagged phrase; ``start``/``end`` index the original note."""

    start: int
    end: int
    category: str
    text: str


@dataclass(frozen=True)
class Screening:
    """The guard's decision about one note."""

    text: str
    verdict: Verdict
    reasons: tuple[str, ...]
    spans: tuple[Span, ...]
    remainder: str | None
    sensitive_categories: tuple[str, ...]

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
        }


# ---------------------------------------------------------------------------
# Normalisation (length-preserving)
# ---------------------------------------------------------------------------

# Traditional → Simplified, limited to characters that occur in the lexicons
# and in common dining notes. Pairs are written as two aligned strings.
_TRAD = (
    "髮頭臉鏡膚個長圓鵝麗醜帥紋紅裝體歲約學愛訴舉檢報難纏氣質費給禿婦"
    "奧蔥檸蘿蔔腦鴨腸鍋雞豬醬點發週鴛鴦寬麵熱圍歡靜過敏對蝦鮮輪無礙"
    "兒話說錢實壯鬍鬚齒顏這樣們來時會員應黃邊飲湯腳齡輕買賣單讓請麼"
    "紀嗎鬧罵煩聽視覺聾啞殘癡鬱壓風癲癇臟懷藥療傷皺戀變猶穌蘭齋葷維"
    "漢滿國華僑種隻隱環鏈錶鍊褲襯襪妝纖細頸額頰樑髒壞討厭囉嚴厲摳門"
    "嗇佔閒專業務樓層號區廁廳間張嬰寶燒鹹澀濃薑滷魚鴿貝蠔餃飯餅涼溫"
    "燙濕乾開關優樂聲雜亂淨麩麥穀鹽韭馬鈴薯綁帶襖領絲爺媽奶孫婆叔裡"
    "後幾兩東邊腦蹄筋膠雙態龐爾噸稱擬棄勁標準參與齊鬆緊蓋騷擾邋遢"
    "凱兇衝嘮叨遲囂張驕傲貪龜毛們蠻還讀語啟動態頁範圍評論論撥級"
)
_SIMP = (
    "发头脸镜肤个长圆鹅丽丑帅纹红装体岁约学爱诉举检报难缠气质费给秃妇"
    "奥葱柠萝卜脑鸭肠锅鸡猪酱点发周鸳鸯宽面热围欢静过敏对虾鲜轮无碍"
    "儿话说钱实壮胡须齿颜这样们来时会员应黄边饮汤脚龄轻买卖单让请么"
    "纪吗闹骂烦听视觉聋哑残痴郁压风癫痫脏怀药疗伤皱恋变犹稣兰斋荤维"
    "汉满国华侨种只隐环链表链裤衬袜妆纤细颈额颊梁脏坏讨厌啰严厉抠门"
    "啬占闲专业务楼层号区厕厅间张婴宝烧咸涩浓姜卤鱼鸽贝蚝饺饭饼凉温"
    "烫湿干开关优乐声杂乱净麸麦谷盐韭马铃薯绑带袄领丝爷妈奶孙婆叔里"
    "后几两东边脑蹄筋胶双态庞尔吨称拟弃劲标准参与齐松紧盖骚扰邋遢"
    "凯凶冲唠叨迟嚣张骄傲贪龟毛们蛮还读语启动态页范围评论论拨级"
)


def _build_translation() -> dict[int, str]:
    table: dict[int, str] = {}
    for trad, simp in zip(_TRAD, _SIMP, strict=True):
        table[ord(trad)] = simp
    # Full-width ASCII (common on Chinese keyboards) → ASCII.
    for code in range(0xFF01, 0xFF5F):
        table[code] = chr(code - 0xFEE0)
    table[0x3000] = " "
    # Control and format characters become spaces so they separate clauses
    # instead of hiding words ("fat\u200bguy").
    for code in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]:
        table[code] = " "
    for code in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00A0):
        table[code] = " "
    for code, ascii_char in (
        (0x2019, "'"),
        (0x2018, "'"),
        (0x2032, "'"),
        (0x201C, '"'),
        (0x201D, '"'),
        (0x2033, '"'),
        (0x2013, "-"),
        (0x2014, "-"),
        (0xFF5E, "~"),
        (0x301C, "~"),
    ):
        table[code] = ascii_char
    return table


_TRANSLATION = _build_translation()


def _normalise(text: str) -> str:
    """Return a same-length, lower-case, simplified copy of ``text``."""
    mapped = text.translate(_TRANSLATION)
    lowered = mapped.lower()
    if len(lowered) == len(mapped):
        return lowered
    # A few characters (e.g. "İ") lower-case to two code points; keep the
    # one-to-one alignment by lowering character by character.
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in mapped)


# ---------------------------------------------------------------------------
# Clause splitting
# ---------------------------------------------------------------------------

_CJK = "\u3400-\u9fff\uf900-\ufaff"
_CLAUSE_BREAK = re.compile(
    r"[，,、；;。！!？?\n\r\t|｜:：()（）\[\]【】《》<>\"“”]+"
    r"|\s+[-–/+&]+\s+|\s*\+\s*"
    r"|\.(?=\s|$)(?<!\by\.o\.)"
    r"|\s+(?:and|but|also|plus|then)\s+"
    r"|但是|但|而且|并且|还有|另外|同时"
    rf"|(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])"
)


def _clauses(norm: str) -> list[tuple[int, int]]:
    """Split the normalised note into (start, end) clause ranges, trimmed."""
    ranges: list[tuple[int, int]] = []
    pos = 0
    for m in _CLAUSE_BREAK.finditer(norm):
        if m.start() > pos:
            ranges.append((pos, m.start()))
        pos = max(pos, m.end())
    if pos < len(norm):
        ranges.append((pos, len(norm)))
    trimmed: list[tuple[int, int]] = []
    for start, end in ranges:
        while start < end and norm[start] in " .-~*#":
            start += 1
        while end > start and norm[end - 1] in " .-~*#":
            end -= 1
        if start < end:
            trimmed.append((start, end))
    return trimmed


# ---------------------------------------------------------------------------
# Lexicons
# ---------------------------------------------------------------------------

_Kind = Literal["forbidden", "condition", "sensitive"]


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    category: str
    detail: str
    kind: _Kind = "forbidden"
    # Clothes, hair, glasses and face words that only explain a service item
    # ("needs an apron for her shirt", "hair tie") are not a description.
    item_exempt: bool = False
    # "quiet" is a personality judgement, "prefers quiet" a seating wish.
    preference_exempt: bool = False


def _rx(pattern: str) -> re.Pattern[str]:
    # ASCII word boundaries: an English word typed against Chinese ("客人用walker",
    # "hearing不好") is still a word.
    return re.compile(pattern, re.ASCII)


# --- shared English vocabulary -------------------------------------------
_EN_PERSON = (
    r"(?:guys?|man|men|wom[ae]n|lad(?:y|ies)|girls?|boys?|kids?|sons?|daughters?|dudes?"
    r"|gentlem[ae]n|gents?|customers?|guests?|persons?|people|one|moms?|mums?|mothers?"
    r"|dads?|fathers?|wife|husband|couples?|famil(?:y|ies)|fellas?|fellows?|blokes?|chicks?"
    r"|aunt(?:ie|y)?|uncles?|grandmas?|grandpas?|grann(?:y|ies)|students?|teens?|gals?|lads?"
    r"|mister|sir|madam|miss|brothers?|sisters?|bros?|boyfriends?|girlfriends?|bf|gf|chaps?"
    r"|twins?|mommy|daddy|grandmother|grandfather|auntie|individual|patron|regular)"
)
_EN_INTENS = (
    r"(?:very|quite|really|so|super|kinda|kind of|a bit|a little|bit|rather|too|extremely"
    r"|pretty|slightly|somewhat|fairly|real|v|rly)"
)
_EN_SUBJECT = (
    r"(?:(?:she|he|they|customer|guest|guy|lady|man|woman|girl|boy|member)"
    r"(?:'s|\s+is|\s+was|\s+looks|\s+seems|\s+are)?\s+)"
)
_EN_FILLER_ADJ = (
    r"(?:\s+(?:old|young|little|big|tall|short|fat|thin|skinny|asian|black|white|pretty|cute"
    r"|hot|chubby|tiny|petite|blond|blonde|bald|sweet|nice|lovely|skinny|slim|heavy|\w+-haired"
    r"|\w+ish|looking|beautiful|handsome|large|huge|chinese|korean|japanese|indian))*"
)
_EN_END = r"(?=\s*$|\s+(?:and|&|but|as|with|w/|who|that|like)\b|-?ish\b)"


def _en_person_adj(words: str) -> str:
    """Adjective used of a person: "tall guy", bare "tall", "she is tall"."""
    return (
        rf"\b(?:{words})\b(?={_EN_FILLER_ADJ}\s+{_EN_PERSON}\b)"
        rf"|^{_EN_SUBJECT}?(?:{_EN_INTENS}\s+)*(?:{words}){_EN_END}"
        rf"|\b{_EN_SUBJECT}(?:{_EN_INTENS}\s+)*(?:{words})\b"
        rf"|\b(?:very|quite|really|super|extremely|so)\s+(?:{words}){_EN_END}"
    )


# --- shared Chinese vocabulary -------------------------------------------
_ZH_PERSON = (
    r"(?:女士|女生|男生|女孩子?|男孩子?|小?姑娘|小伙子?|先生|小姐|大哥|大姐|阿姨|叔叔|大叔|大爷"
    r"|大妈|老头|老太太?|哥们|哥哥?|姐姐?|妹子|妹妹?|弟弟?|客人|顾客|男人|女人|男的|女的|那位"
    r"|这位|那个|仔|妞|美女|帅哥|人|男|女|guy|man|lady|girl|boy|woman)"
)
_ZH_INTENS = (
    r"(?:很|挺|特别|非常|比较|有点|有些|蛮|超级?|太|偏|较|好|真|贼|巨|略|稍|稍微|人|长得|也)"
)
_ZH_BODY_ADJ = r"(?:胖|瘦|高|矮|壮|黑|白|帅|美|丑|肥)"
# What may follow a bodily adjective for it to describe the person rather than
# an object: end of clause, a particle, a person noun, or another adjective.
_ZH_ADJ_END = (
    rf"(?=$|[^{_CJK}]|了|啊|呀|哦|吧|呢|哈|的?(?:{_ZH_PERSON})|的$|的[^{_CJK}]"
    rf"|{_ZH_BODY_ADJ}{{2}}|一些|一点$|点$)"
)

_RULES: tuple[_Rule, ...] = (
    # ---------------------------------------------------------------- face
    _Rule(
        _rx(r"(?<![猪牛羊鸡鸭鱼兔])脸(?!盆)|五官|颜值|长相|相貌|模样|长得|瓜子脸|国字脸"),
        "appearance",
        "face",
        item_exempt=True,
    ),
    _Rule(
        _rx(
            r"\b(?:round|oval|square|long|chubby|pretty|cute|baby|moon|big|small"
            r"|thin)[- ]?faced?\b"
            r"|\bfaces?\b|\bfacial\b|\bgoose[- ]?egg\b|\bcheeks?\b|\bcheekbones?\b|\bchin\b"
            r"|\bjawline\b|\bdouble chin\b"
        ),
        "appearance",
        "face",
        item_exempt=True,
    ),
    # ----------------------------------------------------------------- eyes
    _Rule(
        _rx(
            r"眼睛|眼皮|大眼|小眼|眯眯眼|斜视|睫毛|眉毛|卧蚕|黑眼圈|眼袋"
            r"|\b(?:eyes|eyed|eyelash(?:es)?|eyebrows?|brows|eye ?bags|lashes)\b"
            r"|\b(?:blue|green|brown|grey|gray|hazel|big|small|squinty|narrow|almond)[- ]eyes?\b"
        ),
        "appearance",
        "eyes",
    ),
    _Rule(
        _rx(
            r"眼镜(?!布|盒|袋|纸|擦)|墨镜|近视|隐形"
            r"|\bbespectacled\b|\bspectacles\b|\bspecs\b|\bsunglasses\b|\bshades\b"
            r"|(?<!wine )(?<!beer )(?<!water )(?<!shot )(?<!\d )(?<!\d)(?<!two )(?<!three )"
            r"\bglass(?:es|ess|ses)\b(?!\s+(?:of|for)\b)(?!\s+(?:cloth|wipes?|cleaner))"
        ),
        "appearance",
        "glasses",
        item_exempt=True,
    ),
    # ----------------------------------------------------------------- hair
    _Rule(
        _rx(
            r"头发|发型|发色|刘海|马尾|辫子|光头|秃|寸头|平头|板寸|卷发|直发"
            r"|[长短黄红白黑金灰棕栗紫蓝绿粉银]发(?!票|财|货|送|现|给|圈)"
            r"|染发|染了|黄毛|胡子|胡须|胡茬|络腮|地中海|假发|脱发|掉发|发量"
        ),
        "appearance",
        "hair",
        item_exempt=True,
    ),
    _Rule(
        _rx(
            r"\bhair(?:ed|y|cut|style|do|line)?\b(?!\s*(?:tie|ties|band|bands|clip|clips|net))"
            r"|\bbald(?:ing)?\b|\bblond(?:e|es)?\b|\bbrunette\b|\bredhead\b"
            r"|\bginger\b(?=\s+(?:hair|guy|girl|man|woman|lady|kid))"
            r"|\bponytail\b|\bpigtails\b|\bbraids?\b|\bbraided\b|\bdreadlocks\b|\bdreads\b"
            r"|\bcurls\b|\bcurly\b"
            r"|\bman[- ]bun\b|\bbuzz ?cut\b|\bmohawk\b|\bbeard(?:ed|s)?\b|\bmoustache\b"
            r"|\bmustache\b"
            r"|\bgoatee\b|\bsideburns\b|\bstubble\b|\bshaved head\b|\bdyed\b|\bhighlights\b"
            r"|\bgr[ae]y[- ]haired\b"
        ),
        "appearance",
        "hair",
        item_exempt=True,
    ),
    # ----------------------------------------------------------------- skin
    _Rule(
        _rx(
            r"皮肤|肤色|黝黑|白净|白皙|晒黑|痣|雀斑|痘|疤|皱纹|胎记"
            r"|\b(?:dark|light|pale|fair|tanned|olive|brown|black|white|yellow)[- ]skin(?:ned)?\b"
            r"|\bcomplexion\b|\bfreckles?\b|\bfreckled\b|\bacne\b|\bpimples?\b"
            r"|\bmoles?\b(?!\s+sauce)"
            r"|\bscars?\b|\bscarred\b|\bwrinkles?\b|\bwrinkly\b|\bbirthmark\b|\btanned\b|\bpale\b"
            r"|\bskin\b"
        ),
        "appearance",
        "skin",
    ),
    # --------------------------------------------------------------- mouth
    _Rule(
        _rx(
            r"嘴唇|红唇|厚唇|薄唇|鼻子|鼻梁|塌鼻|酒窝|龅牙|牙齿|虎牙|门牙|大牙|缺牙|牙套|牙不齐"
            r"|\blips?\b|\bnose\b|\bnosed\b|\bteeth\b|\btooth\b|\bbraces\b|\bdimples?\b|\bsmile\b"
            r"|\bbuck[- ]?teeth\b|\bgap[- ]toothed\b|\bears?\b"
        ),
        "appearance",
        "face",
    ),
    # --------------------------------------------------------------- build
    _Rule(
        _rx(
            r"胖子|胖胖|微胖|偏胖|肥胖|发福|矮胖|胖乎乎|肥婆|死胖|大胖|小胖|瘦子|瘦瘦|瘦猴|偏瘦"
            r"|消瘦|骨瘦"
            r"|苗条|丰满|身材|体型|体态|魁梧|壮实|健壮|强壮|壮汉|肌肉|啤酒肚|大肚子|肚腩|小肚子"
            r"|双下巴"
            r"|水桶腰|小蛮腰|细腰|粗腰|大长腿|长腿|腿很长|腿长|腿粗|短腿|胸大|胸小|大胸|平胸"
            r"|屁股大|臀"
            r"|高高瘦瘦|瘦瘦高高|矮矮胖胖|白白胖胖|高个|矮个|大个子|小个子|个子|个儿|个头|身高|体重"
            r"|人高马大|长的(?:高|矮|胖|瘦|帅|丑|好看|漂亮|像)"
            r"|大高个"
        ),
        "appearance",
        "build",
    ),
    _Rule(
        _rx(
            rf"{_ZH_INTENS}{_ZH_BODY_ADJ}(?!兴|档|级|端|效|温|汤|度|色|峰|速|价|铁|楼|层|脚|椅"
            rf"|凳|桌|糖|酒|开|菜|米|面|粉"
            rf"|汁|茶|醋|鱼|肉|饭|蛙|甲)"
            rf"{_ZH_ADJ_END}"
            rf"|(?:胖胖|瘦瘦|高高|矮矮|黑黑|壮壮|白白){_ZH_ADJ_END}"
            rf"|(?:胖|瘦|矮|壮|帅|丑|肥)的?(?={_ZH_PERSON})"
            rf"|(?:高|黑|白|美)的(?={_ZH_PERSON})"
            rf"|^{_ZH_INTENS}?{_ZH_BODY_ADJ}(?:了|的|啊|呀)?$"
        ),
        "appearance",
        "build",
    ),
    _Rule(
        _rx(
            r"\b(?:chubby|chunky|plump|obese|overweight|underweight|fatso|fatty(?!\s+(?:beef"
            r"|pork|lamb|meat|cuts?|brisket|fish|tuna|salmon|bits?|parts?))"
            r"|stocky|lanky|scrawny|bony|muscular|muscly|buff|ripped|beefy(?!\s+(?:broth|soup))"
            r"|burly"
            r"|potbell(?:y|ied)|pot[- ]bellied|beer[- ]belly|belly|double[- ]chin|curvy|busty"
            r"|flat[- ]chested"
            r"|legs|leggy|boobs|breasts|butt|figure|physique|build|built|fit|athletic|gym[- ]type"
            r"|big[- ]boned|well[- ]built|heavyset|heavy[- ]set|slender|skinny|slim|petite)\b"
            r"|\bon the (?:heavy|big|large|thin|skinny|short|tall|small|chubby|plump) side\b"
        ),
        "appearance",
        "build",
    ),
    _Rule(
        _rx(
            _en_person_adj(
                r"fat|thin|big|huge|large|heavy|small|tiny|tall|short|little|giant|massive|bulky"
                r"|round"
            )
        ),
        "appearance",
        "build",
    ),
    # ------------------------------------------------------ measurements
    _Rule(
        _rx(
            r"\b[12]\.[0-9]{1,2}\s*(?:m|meters?|metres?|米)(?![a-z])"
            r"|\b1[4-9]\d\s*(?:cm|厘米|公分)|(?<!\d)1[4-9]\d(?:左右|上下|的(?=大|小|个|高|矮))"
            r"|\b(?:[3-9]\d|1\d\d)\s*(?:kg|kgs|kilos?|公斤)(?![a-z])(?!\s+of\b)"
            r"|\b(?:[89]\d|[1-3]\d\d)\s*(?:lbs?|pounds)\b"
            r"|(?<![\d.])(?:[6-9]\d|[1-3]\d\d)\s*斤(?![{cjk}])|(?<![\d.])(?:[6-9]\d"
            r"|[1-3]\d\d)\s*斤(?=左右|上下|的样子)"
            r"|\b[4-7]\s*(?:'|ft|foot|feet)\s*(?:\d{1,2})?\s*(?:\"|in\b"
            r"|inch(?:es)?\b)?(?:\s*tall)?"
            r"|[1一]米[0-9五六七八九一二三四][0-9一二三四五六七八九十]?"
            r"|\b(?:weighs?|weight|height)\b|\b\d+\s*(?:cm|kg)\s+\d+\s*(?:cm|kg)\b".replace(
                "{cjk}", _CJK
            )
        ),
        "body-measurement",
        "height or weight",
    ),
    # ---------------------------------------------------- attractiveness
    _Rule(
        _rx(
            r"漂亮(?!的(?!"
            + _ZH_PERSON
            + r")["
            + _CJK
            + r"])|好看(?!的(?!"
            + _ZH_PERSON
            + r")["
            + _CJK
            + r"])"
            r"|美女|美眉|靓女|靓仔|帅哥|帅气|帅|(?<!怕)丑(?!橘)|难看|性感|颜值高|女神|男神"
            r"|小鲜肉|花美男|气质好|有气质"
            r"|像明星|像模特|网红脸|长得像|看起来像|看着像|好像是学生"
        ),
        "appearance",
        "attractiveness",
    ),
    _Rule(
        _rx(
            r"\b(?:handsome|gorgeous|ugly|unattractive|attractive|sexy"
            r"|beautiful(?=\s+(?:\w+\s+)?(?:" + _EN_PERSON[3:-1] + r")\b|\s*$|\s*,)"
            r"|good[- ]looking|nice[- ]looking|plain[- ]looking|\w+[- ]looking|hottie|babe"
            r"|stunner|stunning"
            r"|lookalike|look[- ]alike|doppelganger|resembles)\b"
            r"|\blooks?\s+(?:like|just like|similar to)\b|\blooking\b"
        ),
        "appearance",
        "attractiveness",
    ),
    _Rule(
        _rx(
            _en_person_adj(r"pretty|cute|beautiful|gorgeous|lovely|plain|sweet[- ]looking")
            + rf"|\bhot(?={_EN_FILLER_ADJ}\s+{_EN_PERSON}\b)"
        ),
        "appearance",
        "attractiveness",
    ),
    # ------------------------------------------------------------- clothes
    _Rule(
        _rx(
            r"穿|戴|衣服|外套|裙|西装|衬衫|t恤|卫衣|夹克|大衣|羽绒服|帽子|鸭舌帽|耳环|耳钉|项链"
            r"|金链|链子|手链|手表|名牌"
            r"|包包|化妆|浓妆|口红|纹身|刺青|花臂|纹了|打扮|裤|高跟鞋|工装|制服|口罩"
        ),
        "appearance",
        "clothes",
        item_exempt=True,
    ),
    _Rule(
        _rx(
            r"\b(?:wears?|wearing|wore|worn|dressed|dresses|dress|outfit|coat|jacket|skirt"
            r"|t-?shirts?|shirts?|blouse"
            r"|pants|jeans|trousers|shorts|hoodie|sweater|suit(?:ed)?|uniform|hats?|caps?|beanie"
            r"|scarf|heels"
            r"|boots|sneakers|earrings?|nose[- ]?ring|piercings?|pierced|necklace|gold chain"
            r"|bracelets?|rolex"
            r"|handbag|designer bag|makeup|make-up|lipstick|hijab|headscarf|burqa|niqab|turban"
            r"|mask"
            r"|tattoos?|tattooed|tats|inked)\b"
        ),
        "appearance",
        "clothes",
        item_exempt=True,
    ),
    # ------------------------------------------------------------------ age
    _Rule(
        _rx(
            r"(?<![\d.])\d{1,2}(?:\s*[-~到至]\s*\d{1,2})?\s*(?:岁|周岁)(?!生日|的生日|宝宝"
            r"|的宝宝|小孩|的小孩|孩子|的孩子"
            r"|儿子|女儿|的儿子|的女儿|小朋友|的小朋友)"
            r"|[一二三四五六七八九十两]+(?:多|来|几)?岁(?!生日|的生日|宝宝|的宝宝|小孩|的小孩"
            r"|孩子|的孩子|儿子|女儿|小朋友)"
            r"|[二三四五六七八九]十(?:出头|多|来|几|左右|上下)|\d0(?:出头|多岁|来岁)|岁左右"
            r"|岁上下|多岁"
            r"|年纪|年龄|年轻|岁数|中年|老年|青年|少年|未成年|小年轻|大叔|大妈|大爷|老太太"
            r"|老太婆|老太|老头|老爷爷"
            r"|老奶奶|老爷子|学生妹|学生党|学生模样|高中生|初中生|中学生|研究生|(?:大|小)?学生(?!证|卡|价|票"
            r"|套餐|优惠|折|餐)"
            r"|(?<!\d)[5-9]0后|[0-1]0后|[五六七八九零]零后"
        ),
        "age",
        "guessed age",
    ),
    _Rule(
        _rx(
            r"\b\d{1,2}\s*(?:-|\s)?\s*(?:years?|yrs?|yo|y/o|y\.o\.?)(?:[\s-]*old)?(?![a-z])"
            r"|\b(?:about|around|approx\.?|approximately|abt|roughly|maybe|probably|prob|like"
            r"|circa|ca\.?)\s*~?\s*"
            r"(?:1[3-9]|[2-9]\d)\b(?!\s*(?:%|people|ppl|pax|guests?|persons?|min|mins|minutes"
            r"|hours?|hrs?|pm|am"
            r"|yuan|rmb|kuai|dollars?|bucks|times|plates?|pieces?|pcs|skewers?|orders?|seats?"
            r"|tables?|cm|kg|lbs?|m\b"
            r"|ml|:|\.\d|元|块|个|人|位|次|盘|份|号|点|分钟|斤|公斤|桌|串|瓶))"
            r"|~\s*(?:1[3-9]|[2-9]\d)\b(?![\d:%])(?!\s*(?:people|ppl|pax|min|mins|pm|am|元|块|人"
            r"|位))"
            r"|\b(?:1[3-9]|[2-9]\d)\s*-?ish\b|\b(?:mid|early|late)[- ]?(?:\d0s|twenties|thirties"
            r"|forties|fifties|sixties|seventies|eighties)\b"
            r"|\bin\s+(?:his|her|their)\s+(?:early\s+|mid\s+|late\s+)?(?:\d0s|teens|twenties"
            r"|thirties|forties|fifties|sixties|seventies|eighties)\b"
            r"|\b[2-9]0s\b(?!\s+(?:music|songs?|style|theme|decor))"
            r"|\b(?:twenty|thirty|forty|fifty|sixty|seventy)[- ]?(?:something|ish)\b"
            r"|\b(?:teens?|teenagers?|teenaged|adolescents?|middle[- ]aged?|elderly"
            r"|senior citizens?|pensioners?|retiree|retired"
            r"|boomers?|millennials?|gen[- ]?z|granny|geezer|oldies?)\b"
            r"|\b(?:college|uni|university|high[- ]school|grad)\s+(?:students?|kids?|girls?"
            r"|boys?)\b"
            r"|\bstudents?\b(?!\s+(?:discount|card|id|price|meal|set|deal|offer|menu))"
            r"|\b(?:looks?|seems?|looking)\s+(?:about|around|approx\w*|maybe|like)?\s*(?:young"
            r"|old|older|younger|\d{2})\b"
        ),
        "age",
        "guessed age",
    ),
    _Rule(_rx(_en_person_adj(r"old|older|young|younger|aged|youthful")), "age", "guessed age"),
    # ------------------------------------------------------------ ethnicity
    _Rule(
        _rx(
            r"少数民族|汉族|回族|回民|藏族|维族|维吾尔|蒙古族|满族|苗族|彝族|壮族|朝鲜族|哈萨克"
            r"|土家族|傣族|黎族|瑶族|侗族"
            r"|外国人|老外|洋人|鬼佬|黑人|白人|黄种人|混血|华侨|华裔|外籍|口音|民族"
        ),
        "ethnicity",
        "ethnicity",
    ),
    _Rule(
        _rx(
            r"\b(?:asians?|latinos?|latinas?|latinx|hispanics?|caucasians?|biracial"
            r"|mixed[- ]race|half[- ](?:asian|chinese|japanese|korean|white|black|indian"
            r"|american|european|african|mexican|thai)|ethnic(?:ity)?"
            r"|uyghurs?|uighurs?|tibetans?|foreigners?|laowai|gweilo|westerner|immigrants?"
            r"|africans?|arabs?"
            r"|(?:chinese|korean|japanese|american|african|asian|indian|mexican)-(?:american"
            r"|canadian|australian|british|chinese))\b"
        ),
        "ethnicity",
        "ethnicity",
    ),
    _Rule(
        _rx(
            r"\b(?:black|white|brown|chinese|korean|japanese|indian|thai|vietnamese|filipino"
            r"|russian|mexican|american"
            r"|european|african|arab|foreign|western|middle[- ]eastern|indonesian|malay|nigerian"
            r"|french|german|british)\b"
            rf"(?={_EN_FILLER_ADJ}\s+{_EN_PERSON}\b)"
        ),
        "ethnicity",
        "ethnicity",
    ),
    # ------------------------------------------------------------- religion
    _Rule(
        _rx(
            r"穆斯林|伊斯兰|回教|基督|天主|信佛|佛教|信教|信主|犹太|印度教|和尚|尼姑|宗教|信仰"
            r"|礼拜|斋月|教徒"
            r"|\b(?:muslims?|moslems?|islam|islamic|christians?|catholics?|jewish|jews?"
            r"|buddhists?|hindus?|hinduism"
            r"|sikhs?|mormons?|atheists?|religious|religion|monks?|nuns?|priests?|evangelical"
            r"|protestants?|ramadan)\b"
        ),
        "religion",
        "religion",
        kind="condition",
    ),
    # ---------------------------------------------------------- orientation
    _Rule(
        _rx(
            r"同性恋|同志(?!们)|拉拉|基佬|变性|gay|\b(?:lesbians?|bisexual|bi[- ]sexual|queer"
            r"|homosexual"
            r"|transgender"
            r"|trans(?:man|woman| man| woman| guy| girl)?|tranny|lgbtq?\+?|non[- ]binary"
            r"|nonbinary)\b"
        ),
        "orientation",
        "orientation",
    ),
    # --------------------------------------------------- health conditions
    _Rule(
        _rx(
            r"糖尿病|血糖高|高血糖|怀孕|孕妇|孕期|有孕|备孕|身孕|癌|化疗|艾滋|抑郁|焦虑|自闭"
            r"|多动症|癫痫|心脏病|高血压|血压高"
            r"|痛风|尿酸高|哮喘|精神病|痴呆|中风|生病|有病|身体不好|肾病|肝病|情绪不稳|残疾|残障"
            r"|胃不好|肠胃不好|胃病|胃溃疡|肠胃炎|胃炎|\bstomach (?:ulcers?|problems?|issues?)\b"
            r"|瘸|跛"
            r"|\b(?:diabet\w*|pregnan\w*|expecting a baby|cancer|chemo\w*|hiv|aids|depress\w*"
            r"|anxiety|autis\w*|adhd"
            r"|epilep\w*|seizures?|heart (?:disease|condition|problems?)|hypertension"
            r"|blood pressure|high bp|gout"
            r"|coeliac|celiac|asthma\w*|mental\w*|bipolar|schizo\w*|dementia|alzheimer\w*|stroke"
            r"|sick|illness|disease"
            r"|cholesterol|kidney (?:disease|problems?)|disabled|disability|handicapped|crippled"
            r"|amputee|limp|limps)\b"
        ),
        "health",
        "health condition",
        kind="condition",
    ),
    _Rule(
        _rx(
            r"耳背|耳聋|聋|哑|瞎|盲人|失明|视障|视力不好|听力不好|听障|看不清|听不清"
            r"|视力(?:很|比较|有点)?[差弱]|听不[到见]|听唔[到清]|耳仔唔(?:系几|太)?好|耳朵(?:不太?|唔)好"
            r"|耳朵听不[清见到]|人工耳蜗|手语|腿脚?不方便|行动不便|行动唔方便|拄拐|听力受损"
            r"|睇唔[清到]|眼睛(?:不太?好|看不[清见到])|膝盖不好|(?:不能|爬不了|上不了|走不了)(?:爬)?楼梯"
            r"|(?:腿|脚|腿脚|膝盖)(?:受伤|有伤|骨折)|(?:腿|脚)伤"
            r"|hearing ?(?:不太?好|差|唔好|不行|弱)"
            r"|\b(?:injured|broken|sprained|bad) (?:leg|knee|ankle|hip)\b"
            r"|\b(?:blind|deaf|hard of hearing|visually impaired|partially sighted|mute"
            r"|hearing loss|cochlear implants?|lip[- ]?read\w*|sign language|reduced mobility"
            r"|limited mobility|(?:hard of hearing|deaf) in (?:one|both|his|her|the \w+) ears?"
            r"|mobility scooter"
            r"|hearing[- ]impaired"
            r"|low vision|sight[- ]impaired)\b"
        ),
        "health",
        "disability",
        kind="condition",
    ),
    # -------------------------------------------------------- disparaging
    _Rule(
        _rx(
            r"投诉|客诉|举报|检举|差评|吐槽|事多|事儿多|事儿|难缠|难搞|难伺候|难说话|难弄|难对付"
            r"|不好惹|抠|小气|吝啬|铁公鸡"
            r"|素质|奇葩|黑名单|拉黑|闹事|找茬|揾茬|找事|挑刺|挑剔|占便宜|白嫖|蹭吃|要求免单|要免单"
            r"|想免单|脾气|暴躁|凶|很冲|说话冲"
            r"|烦人|很烦|讨厌|奥客|暴发户|没.{0,3}钱(?!包)|穷|喝醉|醉酒|醉醺醺|喝多|骂|粗鲁|没礼貌"
            r"|不礼貌|傲慢|装逼|嚣张|啰嗦|矫情|作精"
            r"|刁难|神经病|变态|色狼|骚扰|耍酒疯|酒鬼|麻烦精|难应付|爱计较|斤斤计较|不给小费"
            r"|势利|无赖|泼妇|小心(?:这|此)人"
            rf"|冲(?=$|[^{_CJK}])"
            r"|唠叨|磨叽|龟毛|难相处|态度差|态度不好|脾气差|很拽|拽|牛逼哄哄|凯子|土豪|爱面子"
            r"|死要面子"
            r"|穿的很土|很土|土气|老赖|逃单|跑单|赖账|碰瓷"
            # lifestyle and wealth judgements: how much they drink, smoke, eat or own
            r"|洁癖|酒量大|酒量好|能喝|海量|酒鬼|烟鬼|老烟枪|烟瘾|烟不离手|抽烟很凶|爱抽烟"
            r"|大胃王|饭量大|有钱人|很有钱|有钱(?!包)|大款|富婆|富二代|暴发户"
            r"|大嗓门|嗓门大|说话大声"
            # English slang typed among Chinese: "很low", "太low了"
            r"|(?:很|太|好|真|超|蛮|挺|有点) ?low(?![a-z])"
        ),
        "disparaging",
        "judgement",
    ),
    _Rule(
        _rx(
            r"\b(?:complain\w*|complaint\w*|moan\w*|whin\w*|report(?:s|ed|ing|er)?|stingy"
            r"|cheapskate|tightwad|miser\w*"
            r"|penny[- ]pinch\w*|freeload\w*|(?:asks? for|wants?|expects?|demands?"
            r"|always gets?)\s+(?:\w+\s+)?free\s+\w+|difficult|rude\w*|trashy|troublemak\w*"
            r"|trouble[- ]mak\w*"
            r"|picky|fussy|annoy\w*|a (?:real )?pain|pain in the|drunk\w*|alcoholic|boozer|angry"
            r"|yell\w*|shout\w*|scream\w*"
            r"|weird\w*|creep\w*|stares?|staring|arrogant|entitled|demanding|nightmare|karens?"
            r"|bad reviews?|negative reviews?"
            r"|one[- ]star|1[- ]star|threat\w*|blacklist\w*|banned|never satisfied|never happy"
            r"|sends? (?:the )?(?:food|dishes|it|plates?) back"
            r"|short[- ]tempered|hot[- ]tempered|bad[- ]tempered|temper|tantrums?|flirt\w*"
            r"|harass\w*|aggressive|hostile|obnoxious"
            r"|jerk|idiot|psycho|lazy|smelly|smells|stinks|b\.?o\.?|scam\w*|liar|haggl\w*"
            r"|bad tipper|doesn'?t tip|never tips?"
            r"|no tips?|cheap(?:o)?(?=\s*(?:$|,|and\b|guy|man|woman|lady|customer|person|bastard"
            r"|as\b))"
            r"|snob\w*|condescending|impatient|pushy|grumpy|cranky|mean|nasty|hates? waiting"
            r"|problem customer|watch out"
            # lifestyle and wealth judgements: how much they drink, smoke, eat, tip or own
            r"|(?:heavy|chain)[- ]smok\w*|smokes? (?:a lot|heavily|like)|heavy drinker"
            r"|drinks? (?:a lot|heavily|too much|like a fish)|big eater|messy eater"
            r"|eats? (?:a lot|like a pig|too much)|tips? (?:well|big|generously|a lot|poorly"
            r"|badly)|(?:big|good|generous|great|lousy|poor|bad|stingy) tipper|wealthy|loaded"
            r"|high[- ]roller|big spender|(?:very |super |really )?rich(?=\s*(?:$|,|guy|man"
            r"|woman|lady|customer|person|family|boss|kid))"
            r"|beware|posts? (?:on|online|negative)|threatened|sues?|sued|lawyer)\b"
        ),
        "disparaging",
        "judgement",
    ),
    # ---------------------------------------------------------- personality
    _Rule(
        _rx(
            r"内向|外向|话多|话少|话痨|性格|腼腆|害羞|高冷|闷|孤僻|古怪|情绪化|爱说话|不爱说话"
            r"|健谈|开朗|活泼"
            # temper and manner idioms made of service words ("一点就炸": 炸 is also frying)
            r"|一点就[炸着燃爆]|点火就着|暴脾气|火爆脾气|急性子|慢性子|性子|个性|为人|冷冰冰|冷漠"
            r"|凉薄|热心肠|随和|豪爽|较真|一根筋|阴阳怪气|自来熟|慢热|心眼小|小心眼|好面子|强势"
            r"|闷骚|怕丑|躁底|计较|大大咧咧|嘴甜|嘴很甜|刀子嘴|老好人|好说话|难说话|人很好|人挺好"
            r"|安静(?!的(?!"
            + _ZH_PERSON
            + r")["
            + _CJK
            + r"])(?!点|些|一点|的位置|的角落|的地方|的包间|的桌)"
        ),
        "personality",
        "personality",
        preference_exempt=True,
    ),
    _Rule(
        _rx(
            r"\b(?:shy|introvert\w*|extrovert\w*|talkative|chatty|reserved|timid|awkward|nerdy"
            r"|nerd|geeky|weirdo|loner|gossip\w*"
            r"|hot[- ]headed|bossy|fidgety|nervous|cheerful|bubbly|outgoing|know[- ]it[- ]all"
            r"|touchy|stubborn|needy|moody|temperamental|grouchy|snappy|uptight|aloof|stuck[- ]up"
            r"|pretentious|easy[- ]?going|laid[- ]back|sweetheart|softie|high[- ]maintenance"
            r"|drama queen|personality|friendly(?=\s*(?:$|,|and\b|chap|guy|man|woman|lady|person"
            r"|type|one\b|customer|couple))"
            r"|sensitive soul|socially awkward|serious type|cold fish|wet blanket|cold[- ]hearted"
            r"|\w+ type(?= of (?:person|guy|man|woman))"
            r"|quiet(?=\s*$|\s+(?:and|&|but|type|person|guy|girl|man|woman|lady|one|customer)\b"
            r"|\s*,)"
            r"|(?<!it's )(?<!it is )loud(?!\s*(?:speaker|music|in here))"
            r"|noisy(?=\s*$|\s+(?:guy|man|woman|lady|customer|group"
            r"|and)\b))\b"
        ),
        "personality",
        "personality",
        preference_exempt=True,
    ),
    # ----------------------------------------------- sensitive, needs-phrased
    _Rule(
        _rx(
            r"过敏|不耐受|\b(?:allerg\w*|alerg\w*|alergic|allegic|anaphyla\w*|epi-?pen"
            r"|intoleran\w*)\b"
        ),
        "allergy",
        "allergy",
        kind="sensitive",
    ),
    _Rule(
        _rx(r"清真|\b(?:halal|kosher|jain)\b"),
        "religious-dietary",
        "religious diet",
        kind="sensitive",
    ),
    _Rule(
        _rx(
            r"轮椅|无障碍|拐杖|导盲犬|助听器|助行器|\b(?:wheel ?chairs?|ramps?|step[- ]free"
            r"|wheelchair[- ]accessible"
            r"|accessib\w*|crutch\w*|walking (?:frame|stick)|walker|guide dog|mobility"
            r"|hearing aid|braille|(?:uses?|with) a (?:walking )?cane)\b"
        ),
        "disability",
        "access need",
        kind="sensitive",
    ),
)

# Food and service items that contain body-like words. A forbidden match that
# lies inside one of these is not about the customer.
_FOOD = _rx(
    r"牛舌|鸭舌(?!帽)|猪舌|毛肚|牛肚|猪肚|羊肚|肚丝|肚片|百叶|肥牛|肥羊|肥肉|肥肠|大肠|鸭肠|鹅肠"
    r"|肥瘦|瘦肉|猪脑|脑花|鸭血|猪血|毛血旺"
    r"|黄喉|鸭掌|鹅掌|鸡爪|凤爪|鸡脚|猪脚|猪蹄|牛蹄|蹄筋|鸭头|兔头|鱼头|猪头|牛尾|猪耳|羊蝎子"
    r"|鸡翅|鸡腿|羊腿|火腿|鸡胸|牛眼肉|眼肉"
    r"|胖头鱼|胖大海|黑鱼|黑毛肚|白开水|手擀|手工|手打|口味|高汤|高脚|高椅|高桌|面筋|牛腩|五花"
    r"|腰花|腰子|鸭心|鸡心|牛心|猪皮|鸡皮"
    r"|豆皮|脆皮|美蛙|美甲|擦鞋|眼镜布|发圈|皮筋|头绳|嫩牛|黑豆|黑芝麻|白米|白粥|红白锅|鸭胗"
    r"|鸡胗|牛鞭|牛筋|鱼皮|鱼唇|鱼嘴|猪嘴"
    r"|猪鼻|牛舌头|鸭脖|鸡脖|老样子|老地方|老位置|老顾客|老客人|老会员|老客户|老规矩"
    r"|\b(?:beef|pork|pig'?s?|duck|chicken|lamb|mutton|goat|ox|fish|frog|goose|cow|veal|tofu"
    r"|bean|yuba|soy|rabbit|crab|shrimp"
    r"|prawn|salmon|tuna|cod|squid|bird'?s?|eel|turkey)[\s-]+(?:\w+[\s-]+)?(?:tongues?|tripe"
    r"|heads?|feet|foot|ears?|tendons?"
    r"|bell(?:y|ies)|legs?|hearts?|cheeks?|skins?|tails?|knuckles?|necks?|kidneys?|livers?"
    r"|wings?|thighs?|breasts?|brains?"
    r"|blood|intestines?|bones?|lips|trotters?|fat|collars?|maw|gizzards?|nose|eyes?|shoulders?"
    r"|butt)\b"
    r"|\b(?:tongue|brain|feet|head|leg|cheek|belly|shoulder|loin|tail|heart|ear"
    r"|skin)s?\s+of\s+(?:beef|pork|lamb|pig|veal|mutton|duck|chicken|goat|ox)\b"
    r"|\bskin[- ]on\b|\bskin[- ]off\b|\boxtail\b|\bribeye\b|\beye[- ]round\b|\beye of round\b"
    r"|\bshort ribs?\b|\bsweet tooth\b"
    r"|\bfatty\s+(?:beef|pork|lamb|meat|cuts?|brisket|fish|tuna|salmon|bits?|parts?)\b"
    r"|\bhand[- ](?:pulled|made|torn|cut|rolled)\b"
    r"|\bface (?:towel|cloth|wipes?)\b|\bhair (?:ties?|bands?|clips?|nets?)\b|\blens (?:wipes?"
    r"|cloth|cleaner)\b"
    r"|\b(?:wine|beer|water|shot|champagne|cocktail|juice|plum juice|tall)\s+glass(?:es)?\b"
    r"|\bglass(?:es)? of\b"
    r"|\b(?:skinny|thin|fat|short|long|big|small|tall|large|huge|tiny|hot|pretty)\s+(?:fries"
    r"|noodles|rice|portions?|bowls?|glass|pot"
    r"|plates?|table|tables|cups?|slices?|waits?|queues?|soup|broth|drinks?|beer|pieces?"
    r"|servings?|chairs?|rib|ribs|cake)\b"
    r"|\bbrain flower\b|\bstinky tofu\b|\bsmelly tofu\b|\bblood tofu\b|\bduck blood\b"
    r"|\bgoose intestine\b|\bchicken feet\b"
    r"|\bbuns?\b(?!\s*(?:hair|style))|\bsteamed buns?\b|\bpig'?s? ears?\b|\bear salad\b"
    r"|\bmoles? sauce\b"
)
# Items the store hands out; the clothes, hair, glasses or face word next to
# them explains the item rather than describing the guest.
_SERVICE_ITEM = _rx(
    r"围裙|发圈|皮筋|头绳|眼镜布|擦镜纸|毛巾|手机套|手机袋|毯子|盖毯|湿巾"
    r"|\b(?:aprons?|bibs?|hair ?ties?|hairbands?|scrunchies?|lens wipes?|glasses cloth|towels?"
    r"|phone (?:bag|pouch)|blankets?"
    r"|wipes?|coat ?check|coat rack|hanger)\b"
)
# Preference verbs that turn a personality word into a seating wish.
_PREFERENCE = _rx(
    r"喜欢|要|需要|偏好|爱|想|找|安排|\b(?:likes?|prefers?|wants?|loves?|needs?|asks? for"
    r"|requests?|keep"
    r"|somewhere|place|spot)\b"
)
# Needs that make a stated condition a service requirement (dietary) ...
_DIET_NEED = _rx(
    r"不要|不吃|不能|不喝|不加|忌|少|只吃|只要|吃素|素食|素|无糖|低糖|低盐|低脂|清淡|需要|别放"
    r"|去掉|生冷|避免|唔食|唔饮|唔要|唔好|戒口|走甜"
    r"|\b(?:no|not|don'?t|doesn'?t|can'?t|cannot|without|avoid\w*|only|less|low|lower|reduced"
    r"|free|instead|sugar\w*|salt\w*"
    r"|sodium|alcohol|raw|diet\w*|vegetarian|vegan|veggie|halal|kosher|meat|pork|beef|wheat"
    r"|gluten\w*|dairy|milk|sweet|needs?)\b"
)
# ... or an access requirement.
_ACCESS_NEED = _rx(
    r"无障碍|座|位|菜单|读|念|引导|带路|大字|大声|帮|方便|进出|通道|扶|靠门|门口|一楼|电梯|台阶"
    r"|入口|过道|楼梯|扶手|靠近|安排"
    r"|\b(?:seat\w*|table|access\w*|space|help|read|aloud|speak|menu|entrance|step\w*|stairs"
    r"|ground floor|lift|elevator"
    r"|ramp|door|needs?|please|assist\w*|wheel ?chairs?|guide dog|dog|large print|braille"
    r"|guide|lead|near|describe|aisle|armrests?)\b|轮椅|导盲"
)

_REASON_TEXT = {
    "appearance": "describes the customer's body or appearance ({detail})",
    "body-measurement": "records the customer's body measurements ({detail})",
    "age": "guesses the customer's age",
    "ethnicity": "describes the customer's ethnicity or origin",
    "religion": "describes the customer's religion",
    "orientation": "describes the customer's sexual orientation or gender identity",
    "health": "describes the customer's health, disability or pregnancy",
    "disparaging": "passes a disparaging or behavioural judgement on the customer",
    "personality": "judges the customer's personality",
    "allergy": "records an allergy or intolerance (store only with the member's consent)",
    "religious-dietary": "records a religious dietary need (store only with the member's consent)",
    "disability": "records an accessibility need (store only with the member's consent)",
    "health-need": "records a health-related dietary need (store only with the member's consent)",
}


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    category: str
    detail: str


def _contains(outer: Iterable[tuple[int, int]], start: int, end: int) -> bool:
    return any(o_start <= start and end <= o_end for o_start, o_end in outer)


def _screen_clause(norm: str, start: int, end: int) -> tuple[list[_Hit], list[_Hit], list[_Hit]]:
    """Return (forbidden, conditions, sensitive) hits found in one clause."""
    clause = norm[start:end]
    forbidden: list[_Hit] = []
    conditions: list[_Hit] = []
    sensitive: list[_Hit] = []
    food: list[tuple[int, int]] | None = None
    has_item: bool | None = None
    for rule in _RULES:
        for m in rule.pattern.finditer(clause):
            if m.end() == m.start():
                continue
            if food is None:
                food = [(f.start(), f.end()) for f in _FOOD.finditer(clause)]
            if rule.kind != "sensitive" and _contains(food, m.start(), m.end()):
                continue
            if rule.item_exempt:
                if has_item is None:
                    has_item = _SERVICE_ITEM.search(clause) is not None
                if has_item:
                    continue
            if rule.preference_exempt and _PREFERENCE.search(clause, 0, m.start()):
                continue
            hit = _Hit(start + m.start(), start + m.end(), rule.category, rule.detail)
            if rule.kind == "forbidden":
                forbidden.append(hit)
            elif rule.kind == "condition":
                conditions.append(hit)
            else:
                sensitive.append(hit)
    return forbidden, conditions, sensitive


def _merge(hits: list[_Hit]) -> list[_Hit]:
    """Drop hits nested inside another hit of the same category."""
    hits = sorted(hits, key=lambda h: (h.start, -h.end))
    merged: list[_Hit] = []
    for hit in hits:
        if any(
            m.category == hit.category and m.start <= hit.start and hit.end <= m.end for m in merged
        ):
            continue
        merged.append(hit)
    return merged


def _condition_need_category(hit: _Hit) -> str:
    if hit.category == "religion":
        return "religious-dietary"
    if hit.detail == "disability":
        return "disability"
    return "health-need"


def screen(text: str) -> Screening:
    """Decide whether a staff note about a member may be stored.

    >>> screen("no onions in the spicy hot pot").verdict
    'allow'
    >>> s = screen("20-30岁，安静，不吃胡萝卜")
    >>> s.verdict, s.remainder
    ('reject', '不吃胡萝卜')
    >>> screen("花生过敏").sensitive_categories
    ('allergy',)
    """
    if not text or text.isspace():
        return Screening(text, "allow", (), (), "", ())
    norm = _normalise(text)
    clauses = _clauses(norm)
    rejected_clauses: set[int] = set()
    forbidden_all: list[_Hit] = []
    sensitive_all: list[_Hit] = []
    pending: list[tuple[int, _Hit]] = []
    for index, (c_start, c_end) in enumerate(clauses):
        forbidden, conditions, sensitive = _screen_clause(norm, c_start, c_end)
        if forbidden:
            rejected_clauses.add(index)
        forbidden_all.extend(forbidden)
        sensitive_all.extend(sensitive)
        pending.extend((index, hit) for hit in conditions)

    # A condition is a sensitive need when the note states a matching need
    # (in any clause: "diabetic, no sugar"), otherwise a description.
    for index, hit in pending:
        need = _condition_need_category(hit)
        cue = _ACCESS_NEED if need == "disability" else _DIET_NEED
        own_words = norm[hit.start : hit.end]
        has_need = any(
            cue.search(norm.replace(own_words, " " * len(own_words)), c_start, c_end)
            for c_start, c_end in clauses
        )
        if has_need:
            sensitive_all.append(_Hit(hit.start, hit.end, need, hit.detail))
        else:
            forbidden_all.append(hit)
            rejected_clauses.add(index)

    forbidden_all = _merge(forbidden_all)
    sensitive_all = _merge(sensitive_all)
    spans = tuple(
        Span(h.start, h.end, h.category, text[h.start : h.end])
        for h in sorted(forbidden_all + sensitive_all, key=lambda h: (h.start, h.end))
    )
    sensitive_categories = tuple(dict.fromkeys(h.category for h in sensitive_all))

    reasons: list[str] = []
    for hit in forbidden_all:
        reason = _REASON_TEXT[hit.category].format(detail=hit.detail)
        if reason not in reasons:
            reasons.append(reason)
    for category in sensitive_categories:
        reasons.append(_REASON_TEXT[category])

    if forbidden_all:
        kept = [
            text[c_start:c_end].strip()
            for index, (c_start, c_end) in enumerate(clauses)
            if index not in rejected_clauses
        ]
        kept = [k for k in kept if k]
        joiner = (
            "，"
            if re.search(r"[，、；。]", text) or all(re.search(f"[{_CJK}]", k) for k in kept)
            else ", "
        )
        remainder = joiner.join(kept) if kept else None
        return Screening(text, "reject", tuple(reasons), spans, remainder, sensitive_categories)
    if sensitive_all:
        return Screening(text, "sensitive", tuple(reasons), spans, None, sensitive_categories)
    return Screening(text, "allow", (), (), text, ())
