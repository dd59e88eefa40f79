"""Segmentation: Chinese words, mixed text, the operator's dictionary."""

import pytest

from reslib.core.errors import ValidationFailed
from reslib.search import segment, services
from reslib.search.backends.base import Visibility
from reslib.search.models import DictionaryWord
from reslib.search.query import parse

from .conftest import make_doc


def test_search_mode_keeps_words_and_their_parts():
    tokens = segment.index_tokens("数控设备维修与汽车维修技术")
    assert {"数控", "设备", "数控设备", "汽车", "维修", "汽车维修"} <= set(tokens)


def test_mixed_chinese_english_numbers_and_full_width():
    tokens = segment.index_tokens("基于Python3的ＣＮＣ加工，5G网络")
    assert {"python3", "cnc", "加工", "5g", "网络"} <= set(tokens)


def test_query_word_matches_its_sub_words():
    query = parse("汽车维修")
    assert query.terms == (("汽车维修", "汽车 维修"),)
    assert parse("汽车 维修").terms == (("汽车",), ("维修",))


def test_pinyin_initials():
    assert "sksb" in segment.pinyin_tokens("数控设备")
    assert segment.initials("数控") == "sk"


@pytest.mark.django_db
def test_operator_dictionary_word_is_kept_whole_and_audited(operator, django_capture_on_commit_callbacks):
    assert "岗课赛证融通" not in segment.query_words("岗课赛证融通")
    with django_capture_on_commit_callbacks(execute=True):
        services.add_dictionary_word("岗课赛证融通", by=operator, note="政策术语")
    assert segment.query_words("岗课赛证融通") == ["岗课赛证融通"]
    from reslib.core.models import AuditEntry

    assert AuditEntry.objects.filter(action="search.dictionary_add").exists()
    services.index([make_doc(1, "岗课赛证融通的实施路径")])
    assert [h.id for h in services.search("岗课赛证融通", visibility=Visibility.anonymous()).hits] == ["resource:1"]
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_dictionary_word(DictionaryWord.objects.get(word="岗课赛证融通"), by=operator)
    assert "岗课赛证融通" not in segment.query_words("岗课赛证融通")


@pytest.mark.django_db
@pytest.mark.parametrize("word", ["", "两个 词", "长" * 33])
def test_bad_dictionary_words_are_refused(operator, word):
    with pytest.raises(ValidationFailed) as exc:
        services.add_dictionary_word(word, by=operator)
    assert exc.value.fields["word"][0]["code"] == "search.word_invalid"
