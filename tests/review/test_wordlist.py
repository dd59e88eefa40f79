"""The sensitive-word matcher: normalisation, evasions, overlaps, levels, boundaries, file parsing, and a
micro-benchmark (printed, not asserted: run with -s to see the figures)."""

import random
import time

from reslib.review import wordlist
from reslib.review.wordlist import BLOCK, FLAG, Entry, Matcher


def words_found(matcher, text):
    return [(m.entry.word, m.matched) for m in matcher.find(text)]


def test_chinese_words_are_found_with_position_and_context():
    matcher = Matcher([Entry("赌博", BLOCK, "违法"), Entry("代开发票", FLAG, "广告")])
    text = "本课程介绍网络安全。" * 3 + "严禁赌博行为，不得代开发票。" + "结束" * 20
    hits = matcher.find(text)
    assert [(h.entry.word, h.level, h.entry.category) for h in hits] == [("赌博", BLOCK, "违法"),
                                                                         ("代开发票", FLAG, "广告")]
    first = hits[0]
    assert text[first.start:first.end] == "赌博"
    # ±20 characters around the match
    assert first.context == text[first.start - 20:first.end + 20]
    assert len(first.context) == 42


def test_mixed_chinese_and_latin_and_letter_case():
    matcher = Matcher([Entry("VPN翻墙", BLOCK), Entry("casino", FLAG)])
    assert words_found(matcher, "教你用vpn翻墙") == [("VPN翻墙", "vpn翻墙")]
    assert words_found(matcher, "Online CASINO bonus") == [("casino", "CASINO")]


def test_evasions_full_width_spaces_punctuation_zero_width():
    matcher = Matcher([Entry("敏感词", BLOCK), Entry("abc", FLAG)])
    for text in ("这里有敏 感 词", "这里有敏·感·词", "这里有敏，感。词", "这里有敏\u200b感\u200d词", "这里有敏\u3000感词",
                 "这里有敏_感-词", "这里有敏🙂感词"):
        hits = matcher.find(text)
        assert [h.entry.word for h in hits] == ["敏感词"], text
        assert hits[0].matched.startswith("敏") and hits[0].matched.endswith("词")
    assert words_found(matcher, "ＡＢＣ") == [("abc", "ＡＢＣ")]  # full-width Latin


def test_spaces_between_latin_words_are_kept():
    matcher = Matcher([Entry("abc", FLAG), Entry("free money", BLOCK)])
    assert words_found(matcher, "a b c") == []
    assert words_found(matcher, "get FREE  money") == []  # two spaces: not the listed phrase
    assert words_found(matcher, "get Free Money now") == [("free money", "Free Money")]


def test_latin_words_match_whole_words_only_chinese_anywhere():
    matcher = Matcher([Entry("ass", FLAG), Entry("法轮", BLOCK)])
    assert words_found(matcher, "a class of glass") == []
    assert words_found(matcher, "ass") == [("ass", "ass")]
    assert words_found(matcher, "the ass, again") == [("ass", "ass")]
    assert words_found(matcher, "中文ass中文") == [("ass", "ass")]
    assert words_found(matcher, "这是法轮的例子") == [("法轮", "法轮")]


def test_overlapping_and_nested_words_are_all_reported():
    matcher = Matcher([Entry("敏感", FLAG), Entry("敏感词", BLOCK), Entry("感词汇", FLAG)])
    found = sorted((m.entry.word, m.start, m.end) for m in matcher.find("敏感词汇"))
    assert found == [("感词汇", 1, 4), ("敏感", 0, 2), ("敏感词", 0, 3)]
    assert matcher.first_block("敏感词汇").entry.word == "敏感词"


def test_block_wins_when_the_same_word_is_listed_twice():
    matcher = Matcher([Entry("赌博", FLAG, "其他"), Entry("赌 博", BLOCK, "违法")])
    assert len(matcher) == 1
    (hit,) = matcher.find("赌博")
    assert hit.level == BLOCK and hit.entry.category == "违法"


def test_no_words_no_hits_and_limit():
    assert Matcher([]).find("任何文本") == []
    matcher = Matcher([Entry("广告", FLAG)])
    assert len(matcher.find("广告" * 50, limit=5)) == 5


def test_normalise_maps_positions_back_to_the_original():
    text = "甲 乙，丙 abc 丁"
    norm = wordlist.normalise(text)
    assert norm.text == "甲乙丙 abc 丁"
    for i, ch in enumerate(norm.text):
        assert text[norm.original_index(i)].lower() == ch or ch == " "


def test_parse_word_file():
    rows = wordlist.parse_word_file("# 注释\n\n赌博,违法,block\n代开发票，广告\n单独词\n坏级别,其他,maybe\n" + "长" * 70)
    assert [(r["word"], r["category"], r["level"], r["error"]) for r in rows] == [
        ("赌博", "违法", "block", ""), ("代开发票", "广告", "flag", ""), ("单独词", "", "flag", ""),
        ("坏级别", "其他", "maybe", "level"), ("长" * 70, "", "flag", "too_long"),
    ]


def test_micro_benchmark_10000_words_over_1_mb(capsys):
    """Not a timed assertion: prints build and scan times for the report."""
    rng = random.Random(4)
    alphabet = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    entries = [Entry("".join(rng.choice(alphabet) for _ in range(rng.randint(2, 5))),
                     BLOCK if i % 10 == 0 else FLAG) for i in range(10_000)]
    text = "".join(rng.choice(alphabet + [" ", "，", "。", "a", "1"]) for _ in range(1024 * 1024 // 3))
    text = (text * 3)[: 1024 * 1024]  # one million characters (~3 MB in UTF-8)
    started = time.perf_counter()
    matcher = Matcher(entries)
    built = time.perf_counter() - started
    started = time.perf_counter()
    hits = matcher.find(text)
    scanned = time.perf_counter() - started
    started = time.perf_counter()
    wordlist.normalise(text)
    normalised = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n[wordlist benchmark] {len(matcher)} words built in {built * 1000:.0f} ms; "
              f"{len(text):,} characters scanned in {scanned * 1000:.0f} ms "
              f"(normalisation alone {normalised * 1000:.0f} ms), {len(hits)} hits")
    assert hits  # random text over 3000 characters does contain some 2-character words
