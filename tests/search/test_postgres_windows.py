"""PostgreSQL reads the newest id blocks first, the rare words through the index: which lexemes a window uses and
which query groups drive the index (pure arithmetic)."""

from reslib.search.backends.postgres import (
    BLOCKS_PER_C,
    BUCKET,
    MAX_WINDOW_LEXEMES,
    Split,
    block_lexemes,
    split,
    window,
)

COARSE = BUCKET * BLOCKS_PER_C


def test_each_document_names_its_blocks():
    assert block_lexemes(0) == ["~b0", "~c0"]
    assert block_lexemes(12 * BUCKET + 5) == ["~b12", "~c1"]


def test_a_narrow_window_takes_the_newest_small_blocks():
    top = 99 * BUCKET + 17  # the newest id; the first window stops just past it: b99 holds only 18 ids
    assert window(top + 1, 2 * BUCKET) == (97 * BUCKET, ["~b99", "~b98", "~b97"])
    assert window(top + 1, 1.2 * BUCKET) == (98 * BUCKET, ["~b99", "~b98"])
    assert window(1, 2 * BUCKET) == (0, ["~b0"])  # nothing older than the first block


def test_a_wide_window_takes_coarse_blocks_and_ends_nearest_to_its_span():
    stop = 9 * COARSE + 3 * BUCKET  # the coarse block holding stop - 1 reaches above stop: the caller keeps id < stop
    assert window(stop, 1.4 * COARSE) == (8 * COARSE, ["~c9", "~c8"])  # 130 000 ids covered, 230 000 overshoots
    assert window(stop, 1.2 * COARSE) == (8 * COARSE, ["~c9", "~c8"])
    assert window(stop, 0.8 * COARSE) == (9 * COARSE, ["~c9"])


def test_a_window_has_few_lexemes_however_wide():
    start, lexemes = window(50 * COARSE, 40 * COARSE)
    assert len(lexemes) == MAX_WINDOW_LEXEMES and start == (50 - MAX_WINDOW_LEXEMES) * COARSE


def test_rare_groups_drive_the_index_and_common_ones_are_tested_on_the_rows():
    # 老年护理操作要点 at a million documents: 操作 and 要点 are in most documents.
    frequencies = {"老年": 0.015, "护理": 0.03, "操作": 0.68, "要点": 0.59, "~tvideo": 0.1, "~taudio": 0.02,
                   "~pfree": 0.95}
    groups = (("老年",), ("护理",), ("操作",), ("要点",), ("~tvideo", "~taudio"), ("~pfree",))
    parts = split(groups, frequencies, rarest=0.005)
    assert parts.driving == (("老年",), ("护理",), ("~tvideo", "~taudio"))
    assert parts.checked == (("操作",), ("要点",), ("~pfree",))
    # The rarest word bounds the share of matching documents; filters are taken as independent of the words.
    assert parts.density == 0.015 * (0.1 + 0.02) * 0.95


def test_the_more_common_the_rarest_word_the_more_words_drive():
    frequencies = {"python": 0.082, "数据库": 0.083, "实训": 0.12, "的": 0.9}
    assert split((("python",), ("数据库",), ("的",)), frequencies, rarest=0.005).driving == (("python",), ("数据库",))
    # A word rarer than every listed one: the common word is cheaper to test on its few rows.
    assert split((("实训",), ("罕见词",)), frequencies, rarest=0.005) == Split(
        driving=(("罕见词",),), checked=(("实训",),), density=0.005)


def test_without_statistics_everything_drives():
    assert split((("实训",), ("案例",)), {}, rarest=0.0) == Split(
        driving=(("实训",), ("案例",)), checked=(), density=None)
