"""The wording of the API's input-validation errors, in the request's language.

django-ninja hands on pydantic's errors, whose `msg` is English whatever the language ("Field required", "Input
should be a valid integer"). The API keeps their stable code (`validation.<type>`) and shows a message of ours chosen
by the error type, filled in with the limits pydantic reports in the error's `ctx`.
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

WHOLE_NUMBER = _("Enter a whole number.")
NUMBER = _("Enter a number.")
TEXT = _("Enter text.")
LIST = _("Enter a list.")
OBJECT = _("Enter an object with named fields.")
DATE = _("Enter a valid date, e.g. 2026-09-01.")
DATETIME = _("Enter a valid date and time, e.g. 2026-09-01T08:00:00+08:00.")
TIME = _("Enter a valid time, e.g. 08:30.")
URL = _("Enter a valid web address.")
JSON = _("Enter valid JSON.")
CHOICE = _("Choose one of: %(expected)s.")
INVALID = _("Enter a valid value.")

MESSAGES = {
    "missing": _("This field is required."),
    "extra_forbidden": _("This field is not allowed here."),
    "none_required": _("Leave this field empty."),
    "int_type": WHOLE_NUMBER,
    "int_parsing": WHOLE_NUMBER,
    "int_from_float": WHOLE_NUMBER,
    "int_parsing_size": _("The number is too large."),
    "float_type": NUMBER,
    "float_parsing": NUMBER,
    "decimal_type": NUMBER,
    "decimal_parsing": NUMBER,
    "finite_number": _("Enter a finite number."),
    "bool_type": _("Enter true or false."),
    "bool_parsing": _("Enter true or false."),
    "string_type": TEXT,
    "string_unicode": TEXT,
    "string_too_short": ngettext_lazy("Enter at least %(min_length)d character.",
                                      "Enter at least %(min_length)d characters.", "min_length"),
    "string_too_long": ngettext_lazy("Enter at most %(max_length)d character.",
                                     "Enter at most %(max_length)d characters.", "max_length"),
    "string_pattern_mismatch": _("The value does not have the expected format."),
    "too_short": ngettext_lazy("Give at least %(min_length)d item.", "Give at least %(min_length)d items.",
                               "min_length"),
    "too_long": ngettext_lazy("Give at most %(max_length)d item.", "Give at most %(max_length)d items.",
                              "max_length"),
    "greater_than": _("Enter a value greater than %(gt)s."),
    "greater_than_equal": _("Enter a value of at least %(ge)s."),
    "less_than": _("Enter a value less than %(lt)s."),
    "less_than_equal": _("Enter a value of at most %(le)s."),
    "multiple_of": _("Enter a multiple of %(multiple_of)s."),
    "decimal_max_digits": ngettext_lazy("Enter at most %(max_digits)d digit.", "Enter at most %(max_digits)d digits.",
                                        "max_digits"),
    "decimal_max_places": ngettext_lazy("Enter at most %(decimal_places)d decimal place.",
                                        "Enter at most %(decimal_places)d decimal places.", "decimal_places"),
    "decimal_whole_digits": ngettext_lazy("Enter at most %(whole_digits)d digit before the decimal point.",
                                          "Enter at most %(whole_digits)d digits before the decimal point.",
                                          "whole_digits"),
    "list_type": LIST,
    "tuple_type": LIST,
    "set_type": LIST,
    "iterable_type": LIST,
    "dict_type": OBJECT,
    "model_type": OBJECT,
    "model_attributes_type": OBJECT,
    "dataclass_type": OBJECT,
    "enum": CHOICE,
    "literal_error": CHOICE,
    "date_type": DATE,
    "date_parsing": DATE,
    "date_from_datetime_parsing": DATE,
    "date_from_datetime_inexact": DATE,
    "date_past": _("Enter a date in the past."),
    "date_future": _("Enter a date in the future."),
    "datetime_type": DATETIME,
    "datetime_parsing": DATETIME,
    "datetime_from_date_parsing": DATETIME,
    "datetime_object_invalid": DATETIME,
    "datetime_past": _("Enter a time in the past."),
    "datetime_future": _("Enter a time in the future."),
    "timezone_aware": _("Give the time with its time zone, e.g. +08:00."),
    "timezone_naive": _("Give the time without a time zone."),
    "time_type": TIME,
    "time_parsing": TIME,
    "uuid_type": _("Enter a valid UUID."),
    "uuid_parsing": _("Enter a valid UUID."),
    "url_type": URL,
    "url_parsing": URL,
    "url_syntax_violation": URL,
    "url_scheme": URL,
    "url_too_long": URL,
    "json_invalid": JSON,
    "json_type": JSON,
}


def _or_list(expected) -> str:
    """pydantic lists allowed values as "'a', 'b' or 'c'"; the English "or" becomes a comma."""
    head, _sep, last = str(expected).rpartition(" or ")
    return f"{head}, {last}" if head else last


def message_for(error: dict) -> str:
    """A translated message for one pydantic/ninja error dict (type, ctx …); unknown types get a generic one."""
    template = MESSAGES.get(error.get("type"), INVALID)
    context = dict(error.get("ctx") or {})
    if "expected" in context:
        context["expected"] = _or_list(context["expected"])
    try:
        return str(template % context)
    except (KeyError, TypeError, ValueError):  # a ctx without the limit the wording names
        return str(INVALID)
