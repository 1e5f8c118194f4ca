"""Mobile numbers, national ID numbers and VINs: what is accepted, what is refused and why."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields
from wtforms import Form, StringField
from wtforms.validators import Optional

from clubplatform.validators import (
    InvalidValue,
    id_number_and_birthday,
    id_number_birthday,
    id_number_check_char,
    id_number_gender,
    make_id_number,
    make_mobile,
    make_vin,
    marshmallow_validator,
    mask_id_number,
    normalize_mobile,
    validate_id_number,
    validate_mobile,
    validate_vin,
    vin_check_digit,
    wtforms_validator,
)

quick = settings(max_examples=150, deadline=None, database=None)

rngs = st.integers(min_value=0, max_value=2**32 - 1).map(random.Random)
birthdays = st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 12, 31))
genders = st.sampled_from(["male", "female"])
areas = st.from_regex(r"[1-8][0-9]{5}", fullmatch=True)
wmis = st.sampled_from(["LVS", "LFV", "LSG", "LGW", "WBA", "1M8"])
CHECK_CHARS = "0123456789X"


def refusal(fn, value, **kwargs) -> InvalidValue:
    with pytest.raises(InvalidValue) as info:
        fn(value, **kwargs)
    return info.value


# --------------------------------------------------------------------------- mobile numbers


@quick
@given(rngs)
def test_generated_mobile_numbers_are_accepted(rng):
    mobile = make_mobile(rng)
    assert validate_mobile(mobile) == mobile


def test_mobile_typed_with_country_code_spaces_and_dashes_is_normalised():
    assert validate_mobile("+86 138-0013-8000") == "13800138000"


@pytest.mark.parametrize(
    "typed",
    [
        "13800138000",
        "138 0013 8000",
        "8613800138000",
        "0086 138 0013 8000",
        "＋８６ １３８００１３８０００",
    ],
)
def test_usual_ways_of_typing_a_mobile_give_the_same_number(typed):
    assert validate_mobile(typed) == "13800138000"


@quick
@given(
    rngs,
    st.sampled_from(["", "+86", "+86 ", "86", "0086-"]),
    st.lists(st.sampled_from(["", "", " ", "-"]), min_size=11, max_size=11),
)
def test_mobile_with_any_spaces_and_dashes_validates_to_the_bare_digits(rng, prefix, gaps):
    mobile = make_mobile(rng)
    typed = prefix + "".join(gap + digit for gap, digit in zip(gaps, mobile, strict=True))
    assert normalize_mobile(typed) == mobile
    assert validate_mobile(typed) == mobile


@pytest.mark.parametrize("typed", ["", "1380013800", "138001380001", "+86 1380013800"])
def test_mobile_with_wrong_number_of_digits_is_refused(typed):
    assert refusal(validate_mobile, typed).code == "length"


def test_missing_mobile_is_refused():
    assert refusal(validate_mobile, None).code == "length"


@pytest.mark.parametrize("typed", ["138001380ab", "138.0013.8000", "(138)00138000"])
def test_mobile_with_letters_or_punctuation_is_refused(typed):
    assert refusal(validate_mobile, typed).code == "character"


@pytest.mark.parametrize("typed", ["12345678901", "10086100861", "23800138000"])
def test_mobile_not_starting_with_13_to_19_is_refused(typed):
    assert refusal(validate_mobile, typed).code == "prefix"


def test_foreign_mobile_number_is_refused():
    assert refusal(validate_mobile, "+1 415 555 0100").code == "foreign"


# --------------------------------------------------------------------------- national IDs


def test_published_gb11643_example_is_accepted():
    assert validate_id_number("11010519491231002X") == "11010519491231002X"


def test_published_gb11643_example_has_check_char_x():
    assert id_number_check_char("11010519491231002") == "X"


def test_id_number_with_lower_case_x_and_spaces_is_normalised():
    assert validate_id_number(" 110105 19491231 002x ") == "11010519491231002X"


@quick
@given(rngs, birthdays, genders, areas)
def test_generated_id_numbers_are_accepted(rng, birthday, gender, area):
    number = make_id_number(rng, birthday, gender, area)
    assert validate_id_number(number) == number
    assert number.startswith(area)


@quick
@given(rngs, birthdays, genders)
def test_generated_id_numbers_pass_iso_7064_mod_11_2(rng, birthday, gender):
    # GB 11643 restates ISO 7064 MOD 11-2: with X = 10 and weights 2**(17 - i),
    # the weighted sum of all 18 characters leaves 1 modulo 11.
    number = make_id_number(rng, birthday, gender)
    values = [10 if ch == "X" else int(ch) for ch in number]
    assert sum(v * 2 ** (17 - i) for i, v in enumerate(values)) % 11 == 1


@quick
@given(rngs, birthdays, genders)
def test_birthday_and_gender_read_back_from_a_generated_id_number(rng, birthday, gender):
    number = make_id_number(rng, birthday, gender)
    assert id_number_birthday(number) == birthday
    assert id_number_gender(number) == gender


def test_gender_of_published_example_is_female():
    assert id_number_gender("11010519491231002X") == "female"


@quick
@given(rngs, birthdays, genders)
def test_id_number_with_wrong_check_char_is_refused(rng, birthday, gender):
    number = make_id_number(rng, birthday, gender)
    for char in CHECK_CHARS.replace(number[17], ""):
        assert refusal(validate_id_number, number[:17] + char).code == "check"


@quick
@given(rngs, birthdays, genders, st.integers(min_value=0, max_value=16), st.integers(1, 9))
def test_id_number_with_any_single_digit_mistyped_is_refused(rng, birthday, gender, pos, shift):
    number = make_id_number(rng, birthday, gender)
    typo = str((int(number[pos]) + shift) % 10)
    with pytest.raises(InvalidValue):
        validate_id_number(number[:pos] + typo + number[pos + 1 :])


@pytest.mark.parametrize(
    "typed", ["", "11010519491231002", "11010519491231002X0", "110105491231002"]
)
def test_id_number_with_wrong_length_is_refused(typed):
    assert refusal(validate_id_number, typed).code == "length"


@pytest.mark.parametrize(
    "typed", ["1101051949123100AX", "11010519491231002Y", "X10105194912310021"]
)
def test_id_number_with_letters_among_the_digits_is_refused(typed):
    assert refusal(validate_id_number, typed).code == "character"


@pytest.mark.parametrize("first_digit", ["0", "9"])
def test_id_number_with_implausible_area_code_is_refused(first_digit):
    first17 = first_digit + "1010519491231002"
    number = first17 + id_number_check_char(first17)
    assert refusal(validate_id_number, number).code == "area"


@pytest.mark.parametrize("born", ["19990230", "19991301", "19990000", "20230229"])
def test_id_number_with_impossible_birth_date_is_refused(born):
    first17 = f"310101{born}123"
    number = first17 + id_number_check_char(first17)
    assert refusal(validate_id_number, number).code == "birthday"


def test_id_number_born_before_1900_is_refused():
    # The standard's own second example: its check character is right, but 1880 is too early.
    assert refusal(validate_id_number, "440524188001010014").code == "birthday"


def test_id_number_born_after_today_is_refused():
    first17 = "31010120250102123"
    number = first17 + id_number_check_char(first17)
    assert refusal(validate_id_number, number, today=date(2025, 1, 1)).code == "birthday"


def test_id_number_born_today_is_accepted():
    first17 = "31010120250101123"
    number = first17 + id_number_check_char(first17)
    assert validate_id_number(number, today=date(2025, 1, 1)) == number


def test_reading_birthday_from_an_invalid_id_number_is_refused():
    with pytest.raises(InvalidValue):
        id_number_birthday("110105194912310021")


def test_generating_an_id_number_for_an_unknown_gender_is_refused():
    with pytest.raises(ValueError):
        make_id_number(random.Random(1), date(1990, 1, 1), "unknown")


def test_masked_id_number_shows_first_four_and_last_four():
    assert mask_id_number("310101198506011234") == "3101**********1234"


@quick
@given(rngs, birthdays, genders)
def test_masked_id_number_hides_the_birth_date(rng, birthday, gender):
    masked = mask_id_number(make_id_number(rng, birthday, gender))
    assert len(masked) == 18
    assert masked[4:14] == "*" * 10


@pytest.mark.parametrize(("stored", "shown"), [(None, ""), ("", ""), ("12345678", "********")])
def test_masking_a_short_or_missing_id_number_reveals_nothing(stored, shown):
    assert mask_id_number(stored) == shown


def test_masking_a_legacy_15_digit_id_number_keeps_first_and_last_four():
    assert mask_id_number("310101850601123") == "3101*******1123"


# --------------------------------------------------------------------------- VINs


@pytest.mark.parametrize("vin", ["1M8GDM9AXKP042788", "11111111111111111", "1HGCM82633A004352"])
def test_known_real_format_vins_are_accepted(vin):
    assert validate_vin(vin) == vin


def test_check_digit_of_a_known_vin_is_x():
    assert vin_check_digit("1M8GDM9AXKP042788") == "X"


def test_vin_check_digit_ignores_what_is_in_position_9():
    assert vin_check_digit("1M8GDM9A0KP042788") == "X"


def test_vin_typed_in_lower_case_with_spaces_is_normalised():
    assert validate_vin(" 1m8gdm9a xkp042788 ") == "1M8GDM9AXKP042788"


@quick
@given(rngs, wmis)
def test_generated_vins_are_accepted(rng, wmi):
    vin = make_vin(rng, wmi)
    assert validate_vin(vin) == vin
    assert vin.startswith(wmi)


@quick
@given(rngs)
def test_vin_with_wrong_check_digit_is_refused(rng):
    vin = make_vin(rng)
    for char in CHECK_CHARS.replace(vin[8], ""):
        assert refusal(validate_vin, vin[:8] + char + vin[9:]).code == "check"


@pytest.mark.parametrize("typed", ["", "1M8GDM9AXKP04278", "1M8GDM9AXKP0427880"])
def test_vin_with_wrong_length_is_refused(typed):
    assert refusal(validate_vin, typed).code == "length"


@pytest.mark.parametrize("letter", ["I", "O", "Q"])
def test_vin_with_i_o_or_q_is_refused(letter):
    assert refusal(validate_vin, "1M8GDM9AXKP" + letter + "42788").code == "character"


def test_vin_with_punctuation_is_refused():
    assert refusal(validate_vin, "1M8GDM9AXKP04278*").code == "character"


def test_generating_a_vin_with_an_impossible_manufacturer_code_is_refused():
    with pytest.raises(ValueError):
        make_vin(random.Random(1), wmi="IOQ")


# --------------------------------------------------------------------------- messages


def test_each_reason_for_refusal_has_its_own_message():
    bad_birthday = "31010119990230123"
    refusals = [
        refusal(validate_mobile, "1380013800"),
        refusal(validate_mobile, "138001380ab"),
        refusal(validate_mobile, "12345678901"),
        refusal(validate_mobile, "+44 7700 900123"),
        refusal(validate_id_number, "1101051949123100"),
        refusal(validate_id_number, "1101051949123100AX"),
        refusal(validate_id_number, "010105194912310021"),
        refusal(validate_id_number, bad_birthday + id_number_check_char(bad_birthday)),
        refusal(validate_id_number, "110105194912310021"),
        refusal(validate_vin, "1M8GDM9AXKP04278"),
        refusal(validate_vin, "1M8GDM9AXKPO42788"),
        refusal(validate_vin, "1M8GDM9A1KP042788"),
    ]
    messages = [str(exc) for exc in refusals]
    assert len(set(messages)) == len(messages)
    assert all(message.endswith(".") for message in messages)


# --------------------------------------------------------------------------- adapters


class MobileSchema(Schema):
    mobile = fields.String(required=True, validate=marshmallow_validator(validate_mobile))


def test_schema_refuses_a_bad_mobile_with_the_validator_message():
    with pytest.raises(ValidationError) as info:
        MobileSchema().load({"mobile": "12345678901"})
    assert info.value.messages == {"mobile": ["A mainland mobile number starts with 13 to 19."]}


def test_schema_accepts_a_good_mobile_as_typed():
    assert MobileSchema().load({"mobile": "+86 138-0013-8000"}) == {"mobile": "+86 138-0013-8000"}


class VehicleForm(Form):
    vin = StringField("VIN", validators=[wtforms_validator(validate_vin)])
    id_number = StringField("ID", validators=[Optional(), wtforms_validator(validate_id_number)])


def test_form_refuses_a_vin_with_a_wrong_check_digit():
    form = VehicleForm(data={"vin": "1M8GDM9A1KP042788"})
    assert not form.validate()
    assert form.errors == {
        "vin": ["This VIN's check digit (9th character) does not match; check for a typo."]
    }


def test_form_accepts_a_good_vin_and_an_empty_optional_id_number():
    form = VehicleForm(data={"vin": "1M8GDM9AXKP042788", "id_number": ""})
    assert form.validate(), form.errors


# --- the quick path for values in their normal form (bulk imports) ----------------------

@pytest.mark.parametrize("value", [
    "11010519491231002X", "11010519491231002x", "110105194912310021", "11010520991231002X",
    "91010519491231002X", "11010519490231002X", "1101051949123100 2", "１１０１０５１９４９１２３１００２Ｘ",
])
def test_an_id_number_and_its_birthday_read_quickly_agree_with_the_validator(value):
    today = date(2026, 11, 24)
    try:
        expected = validate_id_number(value, today=today)
    except InvalidValue as exc:
        with pytest.raises(InvalidValue) as got:
            id_number_and_birthday(value, today=today)
        assert got.value.code == exc.code
    else:
        assert id_number_and_birthday(value, today=today) == (expected,
                                                              id_number_birthday(expected))


def test_a_vin_in_its_normal_form_is_judged_as_the_validator_always_did():
    vin = make_vin(random.Random(7))
    assert validate_vin(vin.lower()) == vin
    wrong = vin[:8] + ("0" if vin[8] != "0" else "1") + vin[9:]
    with pytest.raises(InvalidValue) as exc:
        validate_vin(wrong)
    assert exc.value.code == "check"
    with pytest.raises(InvalidValue) as exc:
        validate_vin("I" + vin[1:])
    assert exc.value.code == "character"


def test_a_mobile_in_its_normal_form_is_judged_as_the_validator_always_did():
    assert validate_mobile("13912345678") == "13912345678"
    for bad, code in (("12912345678", "prefix"), ("1391234567", "length")):
        with pytest.raises(InvalidValue) as exc:
            validate_mobile(bad)
        assert exc.value.code == code
