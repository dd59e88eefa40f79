"""Translations: every app catalogue is complete, and the committed .mo files match their .po sources."""

import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.urls import reverse

import reslib

PACKAGE_DIR = Path(reslib.__file__).resolve().parent
PO_FILES = sorted(PACKAGE_DIR.glob("**/locale/*/LC_MESSAGES/*.po"))


def _id(path: Path) -> str:
    return str(path.relative_to(PACKAGE_DIR))


def test_there_are_catalogues():
    assert PO_FILES, "no .po files found under reslib/**/locale"


@pytest.mark.parametrize("po_path", PO_FILES, ids=_id)
def test_catalogue_is_complete(po_path):
    po = polib.pofile(str(po_path))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"untranslated in {_id(po_path)}: {untranslated}"
    assert not fuzzy, f"fuzzy in {_id(po_path)}: {fuzzy}"
    plural_gaps = [e.msgid for e in po if e.msgid_plural and not all(e.msgstr_plural.values())]
    assert not plural_gaps, f"untranslated plural forms in {_id(po_path)}: {plural_gaps}"


def test_every_text_in_the_code_has_a_translation(tmp_path, monkeypatch):
    """What makemessages finds in each app's code and templates is translated in some catalogue (Django merges all
    apps' catalogues, so a text shared with another app need not be repeated)."""
    translated = {(e.msgctxt or "", e.msgid) for path in PO_FILES for e in polib.pofile(str(path))
                  if e.translated() and not e.obsolete}
    copy = tmp_path / "reslib"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("*.po", "*.mo", "__pycache__", "static"))
    missing = {}
    for app in sorted(p for p in copy.iterdir() if (p / "locale").is_dir()):
        monkeypatch.chdir(app)
        call_command("makemessages", locale=["zh_Hans"], verbosity=0)
        found = polib.pofile(str(app / "locale/zh_Hans/LC_MESSAGES/django.po"))
        gaps = [e.msgid for e in found if (e.msgctxt or "", e.msgid) not in translated]
        if gaps:
            missing[app.name] = gaps
    assert not missing, f"texts without a Chinese translation (add them to the app's .po): {missing}"


def _catalogue(entries) -> dict:
    result = {}
    for e in entries:
        if e.obsolete or not e.msgid:
            continue
        key = (e.msgctxt or "", e.msgid)
        result[key] = dict(e.msgstr_plural) if e.msgid_plural else e.msgstr
    return result


@pytest.mark.parametrize("po_path", PO_FILES, ids=_id)
def test_compiled_catalogue_matches_source(po_path):
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{_id(mo_path)} is missing; run compilemessages"
    po = polib.pofile(str(po_path))
    mo = polib.mofile(str(mo_path))
    expected = {k: v for k, v in _catalogue(po).items() if v and (not isinstance(v, dict) or any(v.values()))}
    actual = _catalogue(mo)
    actual = {k: ({int(i): s for i, s in v.items()} if isinstance(v, dict) else v) for k, v in actual.items()}
    expected = {k: ({int(i): s for i, s in v.items()} if isinstance(v, dict) else v) for k, v in expected.items()}
    assert actual == expected, f"{_id(mo_path)} is stale; run compilemessages"


@pytest.mark.django_db
def test_english_can_be_chosen(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("orgs:list")})
    assert response.status_code == 302
    response = client.get(reverse("orgs:list"))
    assert response["Content-Language"] == "en"
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Institutions" in html and "机构" not in html.split("<main", 1)[1].split("</main>", 1)[0]

    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    response = client.get(reverse("orgs:list"))
    assert response["Content-Language"] == "zh-hans"
    assert "全部省份" in response.content.decode()


@pytest.mark.django_db
def test_browser_language_header_is_honoured(client):
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "en"
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="fr")
    assert response["Content-Language"] == "zh-hans"
