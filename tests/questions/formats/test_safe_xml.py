"""Hostile XML in uploads: a DTD or an entity declaration is refused before anything is expanded or fetched, and
nothing of the file is imported."""

import pytest

from reslib.questions import formats
from reslib.questions.formats import FormatError, moodle_xml
from reslib.questions.formats.safe_xml import parse_xml

ESSAY = "<question type='essay'><questiontext format='plain_text'><text>{}</text></questiontext></question>"


def hostile(secret_path):
    laughs = "".join(f'<!ENTITY l{i} "{"&l%d;" % (i - 1) * 10}">' for i in range(1, 10))
    return {
        "file read (XXE)": f'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY x SYSTEM "file://{secret_path}">]>'
                           f'<quiz>{ESSAY.format("&x;")}</quiz>',
        "external entity over the network": '<!DOCTYPE quiz [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>'
                                            f'<quiz>{ESSAY.format("&x;")}</quiz>',
        "parameter entity": f'<!DOCTYPE quiz [<!ENTITY % p SYSTEM "file://{secret_path}"> %p;]>'
                            f'<quiz>{ESSAY.format("x")}</quiz>',
        "billion laughs": f'<!DOCTYPE quiz [<!ENTITY l0 "ha">{laughs}]><quiz>{ESSAY.format("&l9;")}</quiz>',
        "external DTD": f'<!DOCTYPE quiz SYSTEM "file://{secret_path}"><quiz>{ESSAY.format("x")}</quiz>',
        "internal entity": f'<!DOCTYPE quiz [<!ENTITY x "expanded">]><quiz>{ESSAY.format("&x;")}</quiz>',
        "DTD in UTF-16": None,
    }


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-42")
    return path


@pytest.mark.parametrize("kind", list(hostile("x")))
def test_hostile_xml_is_refused_before_anything_is_read(kind, secret):
    document = hostile(secret)[kind]
    data = (hostile(secret)["file read (XXE)"].replace('<?xml version="1.0"?>', '<?xml version="1.0" '
                                                                                 'encoding="UTF-16"?>')
            .encode("utf-16") if document is None else document.encode())
    for read in (parse_xml, moodle_xml.parse, lambda d: formats.parse("moodle_xml", d)):
        with pytest.raises(FormatError) as refused:
            read(data)
        assert refused.value.code == "question.xml_forbidden"
        assert "TOP-SECRET" not in str(refused.value)


def test_the_same_document_without_its_doctype_is_read():
    items = moodle_xml.parse(f"<?xml version='1.0'?><quiz>{ESSAY.format('plain &amp; simple')}</quiz>".encode())
    assert items[0].data.stem == "plain & simple"
