"""PostgreSQL reads the newest id blocks first: which block lexemes a window uses (pure arithmetic)."""

from reslib.search.backends.postgres import BLOCKS_PER_C, BUCKET, MAX_WINDOW_LEXEMES, block_lexemes, window

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
