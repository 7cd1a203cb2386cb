"""Number normalisation table of call_ordering, without Odoo."""

import pytest
from conftest import load_module

phone_number = load_module("call_ordering/tools/phone_number.py")


@pytest.mark.parametrize(
    ("typed", "e164", "is_valid", "extension"),
    [
        ("+8613812345678", "+8613812345678", True, None),
        ("008613812345678", "+8613812345678", True, None),
        ("13812345678", "+8613812345678", True, None),
        ("138 1234 5678", "+8613812345678", True, None),
        ("\uff0b86 138-1234-5678", "+8613812345678", True, None),
        ("010-8765-4321", "+861087654321", True, None),
        ("01087654321 ext 123", "+861087654321", True, "123"),
        ("010-87654321转123", "+861087654321", True, "123"),
        ("010 8765 4321 分机 45", "+861087654321", True, "45"),
        (13812345678, "+8613812345678", True, None),
        (13812345678.0, "+8613812345678", True, None),
        ("garbage", None, False, None),
        ("12", None, False, None),
        ("", None, False, None),
        (None, None, False, None),
    ],
)
def test_normalize_number(typed, e164, is_valid, extension):
    result = phone_number.normalize_number(typed, "CN")
    assert (result.e164, result.is_valid, result.extension) == (
        e164,
        is_valid,
        extension,
    )


def test_region_changes_national_reading():
    assert phone_number.normalize_number("(650) 253-0000", "US").e164 == "+16502530000"
    assert phone_number.normalize_number("6502530000", "CN").e164 != "+16502530000"


@pytest.mark.parametrize(
    ("caller_id", "expected"),
    [
        ("8613812345678", ["+8613812345678"]),
        ("+8613812345678", ["+8613812345678"]),
        ("13812345678", ["+8613812345678"]),
        ("01087654321", ["+861087654321"]),
        # ambiguous: a CN mobile (165...) or a US number without its "+"
        ("16502530000", ["+16502530000", "+8616502530000"]),
        ("nonsense", []),
        (None, []),
    ],
)
def test_caller_id_variants(caller_id, expected):
    assert phone_number.caller_id_variants(caller_id, "CN") == expected


def test_mobile_fast_path_agrees_with_phonenumbers():
    import random  # noqa: PLC0415

    import phonenumbers  # noqa: PLC0415

    rng = random.Random(7)
    samples = [str(10_000_000_000 + rng.randrange(10_000_000_000)) for _ in range(3000)]
    samples += ["+86" + number for number in samples[:500]]
    for typed in samples:
        got = phone_number.normalize_number(typed, "CN")
        try:
            result = phonenumbers.parse(typed, "CN")
        except phonenumbers.NumberParseException:
            assert not got.is_valid, typed
            continue
        expected_valid = phonenumbers.is_valid_number(result)
        if expected_valid:
            assert got.e164 == phonenumbers.format_number(
                result, phonenumbers.PhoneNumberFormat.E164
            ), typed
        assert got.is_valid == expected_valid, typed
    # another region never takes the CN shortcut
    assert phone_number.normalize_number("13812345678", "US").e164 != "+8613812345678"


def test_caller_id_variants_cache_hands_out_fresh_lists():
    first = phone_number.caller_id_variants("8613812345678", "CN")
    first.append("+10000000000")
    again = phone_number.caller_id_variants("8613812345678", "cn")
    assert again == ["+8613812345678"]
    assert again is not first
    assert phone_number.caller_id_variants(8613812345678.0, None) == again
