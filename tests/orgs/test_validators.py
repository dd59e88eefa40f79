import pytest
from django.core.exceptions import ValidationError

from reslib.orgs.validators import credit_code_check_character, validate_credit_code


@pytest.mark.parametrize("code", ["91350100M000100Y43", "12100000400000624D", "91350100m000100y43"])
def test_valid_credit_codes_pass(code):
    validate_credit_code(code)


def test_check_character_of_the_standards_example():
    # GB 32100-2015 appendix example: 91350100M000100Y4 + check character 3
    assert credit_code_check_character("91350100M000100Y4") == "3"


@pytest.mark.parametrize(
    ("code", "error_code"),
    [
        ("91350100M000100Y44", "org.credit_code_checksum"),
        ("91350100M000100Y4", "org.credit_code_length"),
        ("91350100M000100Y4I", "org.credit_code_characters"),  # I is not in the alphabet
        ("913501O0M000100Y43", "org.credit_code_characters"),
        ("9135A100M000100Y43", "org.credit_code_division"),
    ],
)
def test_wrong_credit_codes_are_refused_with_a_stable_code(code, error_code):
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(code)
    assert exc.value.code == error_code
