"""The API's input-validation errors read in the request's language, with their stable codes."""

import json

import pytest

from reslib.core import validation_messages

from .test_api import API, assert_error, bearer

pytestmark = pytest.mark.django_db


def post(client, path, body, language, headers=None):
    return client.post(f"{API}{path}", json.dumps(body), content_type="application/json",
                       headers={"Accept-Language": language, **(headers or {})})


def messages(error) -> dict:
    return {field: [(e["code"], e["message"]) for e in errs] for field, errs in error["fields"].items()}


def test_missing_field_and_wrong_type_in_chinese(client):
    error = assert_error(post(client, "/auth/token", {"username": 123, "name": "x" * 65}, "zh-hans"),
                         422, "validation.invalid")
    assert error["message"] == "请求无效。"
    assert messages(error) == {
        "password": [("validation.missing", "这个字段是必填项。")],
        "username": [("validation.string_type", "请输入文本。")],
        "name": [("validation.string_too_long", "最多输入 64 个字符。")],
    }


def test_the_same_errors_in_english(client):
    error = assert_error(post(client, "/auth/token", {"username": 123, "name": "x" * 65}, "en"),
                         422, "validation.invalid")
    assert error["message"] == "The request is not valid."
    assert messages(error) == {
        "password": [("validation.missing", "This field is required.")],
        "username": [("validation.string_type", "Enter text.")],
        "name": [("validation.string_too_long", "Enter at most 64 characters.")],
    }


def test_query_parameters_and_list_items(client, lead):
    response = client.get(f"{API}/libraries", {"major": "abc", "limit": 500, "status": "flying"},
                          HTTP_ACCEPT_LANGUAGE="zh-hans")
    fields = messages(assert_error(response, 422, "validation.invalid"))
    assert fields["major"] == [("validation.int_parsing", "请输入整数。")]
    assert fields["limit"] == [("validation.less_than_equal", "请输入不大于 100 的值。")]
    ((code, status_message),) = fields["status"]
    assert code == "validation.literal_error"
    assert status_message.startswith("请从以下值中选择：'draft', 'submitted'") and " or " not in status_message

    response = post(client, "/libraries", {"name": "测试库", "hosts": ["第一", 2], "build_start": "明年"}, "zh-hans",
                    bearer(lead))
    fields = messages(assert_error(response, 422, "validation.invalid"))
    assert fields["hosts.0"] == [("validation.int_parsing", "请输入整数。")]
    assert fields["build_start"] == [("validation.date_from_datetime_parsing", "请输入有效的日期，例如 2026-09-01。")]


def test_an_anonymous_caller_is_refused_before_any_field_is_checked(client):
    response = post(client, "/libraries", {"hosts": ["第一"]}, "zh-hans")
    error = assert_error(response, 401, "auth.required")
    assert error["fields"] == {}


def test_unknown_types_and_incomplete_context_get_a_generic_message():
    from django.utils import translation

    with translation.override("zh-hans"):
        assert validation_messages.message_for({"type": "complex_type"}) == "请输入有效的值。"
        assert validation_messages.message_for({"type": "greater_than_equal", "ctx": {}}) == "请输入有效的值。"
        assert validation_messages.message_for({"loc": ["cursor"]}) == "请输入有效的值。"
        assert validation_messages.message_for({"type": "too_short", "ctx": {"min_length": 1}}) == "请至少提供 1 项。"
