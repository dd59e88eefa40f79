"""PostgreSQL reads the newest id blocks first: which block lexemes cover an id range (pure arithmetic)."""

from reslib.search.backends.postgres import BUCKET, block_lexemes, window_lexemes


def test_each_document_names_its_blocks():
    assert block_lexemes(0) == ["~b0", "~c0"]
    assert block_lexemes(12 * BUCKET + 5) == ["~b12", "~c1"]


def test_a_window_uses_coarse_blocks_where_aligned():
    # ids [7·B, 31·B): b30, then c2 (blocks 20–29) and c1 (10–19), then b9 b8 b7 — six lexemes, not twenty-four.
    assert window_lexemes(7 * BUCKET, 31 * BUCKET) == ["~b30", "~c2", "~c1", "~b9", "~b8", "~b7"]


def test_the_newest_partial_block_is_included():
    top = 99 * BUCKET + 17  # the newest id; windows stop just past it
    assert window_lexemes(98 * BUCKET + 17, top + 1) == ["~b99", "~b98"]
    assert window_lexemes(0, 1) == ["~b0"]
