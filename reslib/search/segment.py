"""Chinese word segmentation for indexing and querying (rjieba, the Rust port of jieba).

Documents are cut in *search mode* (a long word also yields its dictionary sub-words: 数控设备 → 数控 设备 数控设备),
queries in *precise mode*; a query word then matches either the whole word or its sub-words in sequence, so
"汽车维修", "汽车 维修" and a text segmented as 汽车/维修 all meet. English is lower-cased, full-width characters are
folded (NFKC), numbers and mixed tokens (Python3, 5G, 1+X) are kept.

The dictionary is rjieba's built-in one plus data/terms.txt, the majors catalogue's names and the operator's
DictionaryWord rows. Each process re-reads the operator's words when they change (checked every RELOAD_SECONDS).
"""

from __future__ import annotations

import functools
import re
import threading
import time
import unicodedata
from pathlib import Path

import rjieba
from django.utils.translation import gettext_lazy as _

WORD_INVALID_MESSAGE = _("Enter one word of at most 32 characters, without spaces.")
RELOAD_SECONDS = 30.0
DEFAULT_FREQUENCY = 200_000
TERMS_FILE = Path(__file__).with_name("data") / "terms.txt"

_TOKEN_OK = re.compile(r"[0-9a-z\u3400-\u9fff\uf900-\ufaff]", re.IGNORECASE)
_PIECES = re.compile(r"[0-9a-z\u3400-\u9fff\uf900-\ufaff]+")
_CJK = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]+$")
_LATIN = re.compile(r"^[a-z]+$")

_lock = threading.Lock()
_state: dict = {"jieba": None, "stamp": None, "checked": 0.0}


def _builtin_terms() -> list[tuple[str, int | None]]:
    terms = []
    for line in TERMS_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        terms.append((parts[0], int(parts[1]) if len(parts) > 1 else None))
    return terms


def _db_terms(known_stamp=None) -> tuple[object, list[tuple[str, int | None]] | None]:
    """(stamp, words) from the database — words None when the stamp is unchanged; (None, []) without tables."""
    from django.db import DatabaseError
    from django.db.models import Count, Max

    try:
        from reslib.orgs.models import Major

        from .models import DictionaryWord

        agg = DictionaryWord.objects.aggregate(n=Count("id"), last=Max("updated_at"))
        stamp = (agg["n"], agg["last"])
        if stamp == known_stamp:
            return stamp, None
        words = list(DictionaryWord.objects.values_list("word", "frequency"))
        words += [(name, None) for name in Major.objects.values_list("name", flat=True) if 2 <= len(name) <= 16]
        return stamp, words
    except DatabaseError:
        return None, []
    except Exception:  # noqa: BLE001 - apps not ready (bare segmentation in scripts)
        return None, []


def _build(words: list[tuple[str, int | None]]):
    jieba = rjieba.Jieba()
    for word, freq in _builtin_terms() + words:
        word = normalise(word).strip()
        if word and not any(c.isspace() for c in word):
            jieba.add_word(word, freq or DEFAULT_FREQUENCY, None)
    return jieba


def _tokenizer(use_db: bool = True):
    now = time.monotonic()
    state = _state
    if state["jieba"] is not None and (not use_db or now - state["checked"] < RELOAD_SECONDS):
        return state["jieba"]
    with _lock:
        if state["jieba"] is not None and (not use_db or now - state["checked"] < RELOAD_SECONDS):
            return state["jieba"]
        stamp, words = _db_terms(state["stamp"]) if use_db else (None, [])
        if words is not None and (state["jieba"] is None or (stamp is not None and stamp != state["stamp"])):
            state["jieba"] = _build(words)
            state["stamp"] = stamp
            _cut_query.cache_clear()
            _cut_search.cache_clear()
        state["checked"] = now
        return state["jieba"]


def reload() -> None:
    """Rebuild the tokenizer now (after the operator changed the dictionary)."""
    with _lock:
        _state["checked"] = 0.0
        _state["stamp"] = ("reload", time.time())
    _tokenizer()


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def _keep(token: str) -> bool:
    return bool(_TOKEN_OK.search(token))


@functools.lru_cache(maxsize=50_000)
def _cut_search(chunk: str) -> tuple[str, ...]:
    out: list[str] = []
    for token in _tokenizer().cut_for_search(chunk):
        out.extend(_PIECES.findall(token))  # "1+x证书" → "1", "x证书": what a word tokenizer would see
    return tuple(out)


@functools.lru_cache(maxsize=10_000)
def _cut_query(chunk: str) -> tuple[str, ...]:
    # A word with inner punctuation ("1+x证书") becomes a phrase of its pieces ("1 x证书").
    return tuple(" ".join(_PIECES.findall(t)) for t in _tokenizer().cut(chunk) if _keep(t))


def _chunks(text: str) -> list[str]:
    # Segment sentence by sentence so the cache sees repeated short pieces (titles, keywords, names).
    return [c for c in re.split(r"[\s,.;:!?，。；：！？、（）()《》<>\"'“”‘’\[\]【】/|]+", normalise(text)) if c]


def index_tokens(text: str) -> list[str]:
    """Tokens of a document field (search mode: words plus their dictionary sub-words)."""
    tokens: list[str] = []
    for chunk in _chunks(text):
        tokens.extend(_cut_search(chunk))
    return tokens


def query_words(text: str) -> list[str]:
    """Words of a query (precise mode)."""
    words: list[str] = []
    for chunk in _chunks(text):
        words.extend(_cut_query(chunk))
    return words


def sub_words(word: str) -> tuple[str, ...]:
    """The word's search-mode pieces without the word itself, when they cover it in order (数控设备 → 数控, 设备)."""
    pieces = [t for t in _cut_search(word) if t != word]
    ordered: list[str] = []
    pos = 0
    for piece in pieces:
        if word.startswith(piece, pos):
            ordered.append(piece)
            pos += len(piece)
    return tuple(ordered) if pos == len(word) and len(ordered) > 1 else ()


def is_cjk(word: str) -> bool:
    return bool(_CJK.match(word))


def is_latin(word: str) -> bool:
    return bool(_LATIN.match(word))


@functools.lru_cache(maxsize=100_000)
def _pinyin(word: str) -> tuple[str, str]:
    from pypinyin import Style, lazy_pinyin

    full = "".join(lazy_pinyin(word, errors="ignore"))
    initials = "".join(lazy_pinyin(word, style=Style.FIRST_LETTER, errors="ignore"))
    return full, initials


def pinyin(word: str) -> str:
    return _pinyin(word)[0]


def initials(word: str) -> str:
    return _pinyin(word)[1]


def pinyin_tokens(text: str) -> list[str]:
    """Pinyin initials of the Chinese words (≥ 2 characters) of a text: 数控设备 → sk sb sksb."""
    out = []
    for token in index_tokens(text):
        if len(token) >= 2 and is_cjk(token):
            out.append(initials(token))
    return out
