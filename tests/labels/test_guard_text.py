"""Script conversion, segmentation and pinyin for the label guard."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from pypinyin import lazy_pinyin

from memberops.labels.guard_text import load_text_tools, read_word_file


def test_shipped_pinyin_index_matches_the_word_lists() -> None:
    # scripts/guard_build.py writes the index; a list edited without rebuilding fails here.
    shipped = json.loads(
        resources.files("memberops.labels.guard_data")
        .joinpath("pinyin_index.json")
        .read_text("utf-8")
    )
    readings: dict[str, set[str]] = {}
    for name in ("forbidden_zh.txt", "sensitive_zh.txt", "service_zh.txt"):
        for word in read_word_file(name):
            if word and all("\u4e00" <= c <= "\u9fff" for c in word):
                key = " ".join(s.replace("ü", "v") for s in lazy_pinyin(word))
                readings.setdefault(key, set()).add(word)
    assert set(shipped) == set(readings)
    for key, word in shipped.items():
        assert word == "□" or word in readings[key]


def test_traditional_is_read_as_simplified_with_offsets_kept() -> None:
    tools = load_text_tools()
    assert tools.simplify("國字臉，戴眼鏡") == "国字脸，戴眼镜"
    assert len(tools.simplify("髮")) == 1


@pytest.mark.parametrize(
    ("spelling", "reading"),
    [("xiao pang", "小胖"), ("xiaopang", "小胖"), ("bu yao xiang cai", "不要香菜")],
)
def test_pinyin_spellings_read_as_their_characters(spelling: str, reading: str) -> None:
    result = load_text_tools().pinyin_to_hanzi(spelling)
    assert result is not None and result[0] == reading


def test_english_is_not_read_as_pinyin() -> None:
    assert load_text_tools().pinyin_to_hanzi("no onions please") is None


def test_segmentation_keeps_dishes_whole() -> None:
    words = load_text_tools().segment("喜欢肥牛和毛肚")
    assert "肥牛" in words and "毛肚" in words


def test_jieba_hmm_is_refused_rather_than_silently_loaded() -> None:
    import sys

    load_text_tools()
    finalseg = sys.modules["jieba"].finalseg
    with pytest.raises(RuntimeError, match="HMM"):
        finalseg.cut("测试")
