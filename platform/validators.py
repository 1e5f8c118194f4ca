"""Validators for the identifiers the club handles: mobile numbers, national IDs and VINs.

Each ``validate_*`` function takes what a person typed (or an import file held), returns the
normalised value to store, and raises :class:`InvalidValue` with a translatable message
that says what is wrong. The ``make_*`` functions produce valid values for demo data and
tests. :func:`marshmallow_validator` and :func:`wtforms_validator` plug the validators into
schemas and forms.

Standards followed:

- mainland mobile numbers: 11 digits, ``1`` then ``3``–``9``;
- citizen identity numbers: GB 11643-1999 (ISO 7064 MOD 11-2 check character);
- vehicle identification numbers: ISO 3779 with the check digit in position 9, which
  GB 16735 makes mandatory in China (the same scheme as North America's).
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from datetime import date
from operator import mul

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError as MarshmallowValidationError
from wtforms.validators import ValidationError as WTFormsValidationError

from clubplatform import dates

__all__ = [
    "InvalidValue",
    "id_number_birthday",
    "id_number_check_char",
    "id_number_gender",
    "make_id_number",
    "make_mobile",
    "make_vin",
    "marshmallow_validator",
    "mask_id_number",
    "normalize_mobile",
    "validate_id_number",
    "validate_mobile",
    "validate_vin",
    "vin_check_digit",
    "wtforms_validator",
]


#: genders as stored (from the ID number's 17th digit, or as given)
GENDERS = ("male", "female")

#: service visit types (工单类型), in DOMAIN.md's order
VISIT_TYPES = (
    "first_service",      # 首保
    "maintenance",        # 保养
    "warranty",           # 索赔
    "minor_repair",       # 小修
    "major_repair",       # 大修
    "insurance_repair",   # 保险维修
    "body_paint",         # 钣喷
    "accessories",        # 装饰
    "insurance_renewal",  # 续保
    "inspection",         # 代办年检
)


class InvalidValue(ValueError):
    """A value that fails validation.

    :param message: what is wrong, for the person who typed it (usually a lazy
        translatable string; ``str()`` translates it into the current locale).
    :param code: a stable machine-readable reason, e.g. ``"length"``, ``"character"``,
        ``"check"``, ``"birthday"``; API error bodies and tests use it.
    """

    def __init__(self, message, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return str(self.message)


def _clean(value, *, drop: str = "") -> str:
    """NFKC-fold (full-width digits and letters become ASCII), remove whitespace and ``drop``."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return "".join(ch for ch in text if not ch.isspace() and ch not in drop)


def _is_ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


# --------------------------------------------------------------------------- mobile numbers

_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"
_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
    "145", "147", "150", "151", "152", "153", "155", "156", "157", "158", "159",
    "166", "173", "175", "176", "177", "178", "180", "181", "182", "183", "184",
    "185", "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip


def normalize_mobile(value) -> str:
    """Reduce a typed mobile number to its bare digits, without judging it.

    Full-width characters are folded to ASCII; spaces and dashes are removed, and so is a
    leading ``+86`` or ``0086`` country code, and a bare ``86`` before 11 more digits.
    Use it to compare numbers (a person is a member at most once, matched by mobile);
    use :func:`validate_mobile` to accept one.

    :param value: what was typed; ``None`` gives ``""``.
    :returns: the cleaned string, e.g. ``"13800138000"`` for ``"+86 138-0013-8000"``.
    """
    text = _clean(value, drop=_DASHES)
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            return text[len(prefix) :]
    if text.startswith("86") and len(text) == 13:
        return text[2:]
    return text


def validate_mobile(value) -> str:
    """Accept a mainland China mobile number.

    :param value: what was typed, e.g. ``"+86 138-0013-8000"``.
    :returns: the 11 digits, e.g. ``"13800138000"``.
    :raises InvalidValue: ``code`` is ``"foreign"`` for another country code,
        ``"character"`` for anything but digits, spaces and dashes, ``"length"`` if not
        11 digits, ``"prefix"`` if it does not start with 13 to 19.
    """
    if value.__class__ is str and len(value) == 11 and value.isascii() and value.isdigit() \
            and value[0] == "1" and value[1] in "3456789":
        return value  # already in its normal form: the common case of a bulk import
    text = normalize_mobile(value)
    if text.startswith("+"):
        raise InvalidValue(
            _l("Only mainland China mobile numbers (+86) are accepted."), code="foreign"
        )
    if text and not _is_ascii_digits(text):
        raise InvalidValue(
            _l("A mobile number may contain only digits, spaces and dashes."), code="character"
        )
    if len(text) != 11:
        raise InvalidValue(_l("Enter an 11-digit mainland mobile number."), code="length")
    if text[0] != "1" or text[1] not in "3456789":
        raise InvalidValue(_l("A mainland mobile number starts with 13 to 19."), code="prefix")
    return text


def make_mobile(rng: random.Random) -> str:
    """Generate a valid mobile number with a real operator prefix.

    :param rng: the random source, so demo data and tests are reproducible.
    :returns: 11 digits, e.g. ``"13912345678"``.
    """
    return rng.choice(_MOBILE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(8))


# --------------------------------------------------------------------------- national IDs

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_EARLIEST_BIRTHDAY = date(1900, 1, 1)


def id_number_check_char(first17: str) -> str:
    """Compute the GB 11643-1999 check character for the first 17 digits of an ID.

    :param first17: exactly 17 ASCII digits (a full 18-character number is not accepted).
    :returns: one of ``0``–``9`` or ``X``.
    :raises InvalidValue: if ``first17`` is not 17 digits.
    """
    if len(first17) != 17 or not _is_ascii_digits(first17):
        raise InvalidValue(_l("The check character needs exactly 17 digits."), code="length")
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def _id_birthday(text: str) -> date | None:
    try:
        return date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return None


def validate_id_number(value, *, today: date | None = None) -> str:
    """Accept an 18-character citizen identity number (GB 11643-1999).

    Spaces are removed, full-width characters folded and a lower-case ``x`` upper-cased.
    Checked in this order: length, characters, area code (first digit 1–8), birth date
    (a real date, from 1900-01-01 up to ``today``), check character.

    :param value: what was typed, e.g. ``"11010519491231002x"``.
    :param today: the latest acceptable birth date; defaults to today in Asia/Shanghai.
    :returns: the normalised number, e.g. ``"11010519491231002X"``.
    :raises InvalidValue: ``code`` is ``"length"``, ``"character"``, ``"area"``,
        ``"birthday"`` or ``"check"``.
    """
    if parse_id_number_quickly(value, today if today is not None else dates.today()):
        return value if value[17] != "x" else value[:17] + "X"
    text = _clean(value).upper()
    if len(text) != 18:
        raise InvalidValue(_l("An ID number has 18 characters."), code="length")
    if not _is_ascii_digits(text[:17]) or not (_is_ascii_digits(text[17]) or text[17] == "X"):
        raise InvalidValue(
            _l("An ID number is 17 digits followed by a digit or X."), code="character"
        )
    if text[0] not in "12345678":
        raise InvalidValue(
            _l("The first six digits of this ID number are not a valid area code."), code="area"
        )
    birthday = _id_birthday(text)
    latest = today if today is not None else dates.today()
    if birthday is None or not _EARLIEST_BIRTHDAY <= birthday <= latest:
        raise InvalidValue(
            _l("The birth date in this ID number (digits 7 to 14) is impossible."),
            code="birthday",
        )
    if text[17] != id_number_check_char(text[:17]):
        raise InvalidValue(
            _l("This ID number's last character does not match; check for a typo."),
            code="check",
        )
    return text


def parse_id_number_quickly(value, today: date) -> date | None:
    """The birth date of an ID number already in its normal form (18 ASCII characters,
    the last a digit or ``X``/``x``) that :func:`validate_id_number` accepts with the same
    ``today``; None for anything else, which the validator then names precisely.

    The quick way for bulk imports: no folding and no error message is built.
    """
    if value.__class__ is not str or len(value) != 18 or not value.isascii():
        return None
    head, last = value[:17], value[17]
    if not head.isdigit() or value[0] not in "12345678" or not (last.isdigit() or last in "Xx"):
        return None
    try:
        birthday = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None
    if not _EARLIEST_BIRTHDAY <= birthday <= today:
        return None
    check = _ID_CHECK_CHARS[sum(map(mul, map(int, head), _ID_WEIGHTS)) % 11]
    return birthday if check == last.upper() else None


def id_number_and_birthday(value, *, today: date | None = None) -> tuple[str, date]:
    """:func:`validate_id_number` and the birth date in it, in one step (quick for a
    number in its normal form). Raises :class:`InvalidValue` as the validator does."""
    today = today if today is not None else dates.today()
    birthday = parse_id_number_quickly(value, today)
    if birthday is not None:
        return (value if value[17] != "x" else value[:17] + "X"), birthday
    text = validate_id_number(value, today=today)
    return text, id_number_birthday(text)


def id_number_birthday(value) -> date:
    """Read the birth date from a valid ID number.

    :param value: an ID number; it is validated first.
    :returns: the date in positions 7–14.
    :raises InvalidValue: if the number is not valid.
    """
    text = validate_id_number(value)
    return date(int(text[6:10]), int(text[10:12]), int(text[12:14]))


def id_number_gender(value) -> str:
    """Read the gender from a valid ID number.

    :param value: an ID number; it is validated first.
    :returns: ``"male"`` if the 17th digit is odd, otherwise ``"female"``.
    :raises InvalidValue: if the number is not valid.
    """
    text = validate_id_number(value)
    return "male" if int(text[16]) % 2 else "female"


def mask_id_number(value) -> str:
    """Show an ID number without revealing it: the first 4 and last 4 characters.

    Never raises, so stored values that predate validation (15-digit first-generation
    numbers, typos) still display. Anything of 8 characters or fewer is fully masked.

    :param value: the stored number; ``None`` gives ``""``.
    :returns: e.g. ``"3101**********1234"`` for an 18-character number.
    """
    text = _clean(value).upper()
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def make_id_number(rng: random.Random, birthday: date, gender: str, area: str = "310101") -> str:
    """Generate a valid ID number for a given person.

    :param rng: the random source.
    :param birthday: the birth date to encode (1900-01-01 to today).
    :param gender: ``"male"`` or ``"female"``.
    :param area: the 6-digit area code; the default is Shanghai Huangpu.
    :returns: an 18-character number that :func:`validate_id_number` accepts.
    :raises ValueError: on a bad gender, area or birthday.
    """
    if gender not in ("male", "female"):
        raise ValueError(f"gender must be 'male' or 'female', not {gender!r}")
    if len(area) != 6 or not _is_ascii_digits(area) or area[0] not in "12345678":
        raise ValueError(f"area must be six digits starting with 1-8, not {area!r}")
    sequence = f"{rng.randrange(100):02d}" + rng.choice("13579" if gender == "male" else "02468")
    first17 = f"{area}{birthday:%Y%m%d}{sequence}"
    return validate_id_number(first17 + id_number_check_char(first17))


# --------------------------------------------------------------------------- VINs

_VIN_VALUES = {str(d): d for d in range(10)} | {
    "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8,
    "J": 1, "K": 2, "L": 3, "M": 4, "N": 5, "P": 7, "R": 9,
    "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9,
}  # fmt: skip
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_CHARS = "".join(_VIN_VALUES)
_VIN_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"
#: per position, each character's value times the position's weight
_VIN_TABLES = tuple({ch: value * weight for ch, value in _VIN_VALUES.items()}
                    for weight in _VIN_WEIGHTS)


def _vin_shape(value) -> str:
    text = _clean(value, drop=_DASHES).upper()
    if len(text) != 17:
        raise InvalidValue(_l("A VIN has 17 characters."), code="length")
    if any(ch in "IOQ" for ch in text):
        raise InvalidValue(
            _l("A VIN never contains the letters I, O or Q (use 1 and 0)."), code="character"
        )
    if any(ch not in _VIN_VALUES for ch in text):
        raise InvalidValue(
            _l("A VIN contains only the digits 0-9 and capital letters."), code="character"
        )
    return text


def vin_check_digit(vin: str) -> str:
    """Compute the ISO 3779 check digit of a VIN.

    :param vin: 17 characters; whatever is in position 9 is ignored.
    :returns: ``0``–``9``, or ``X`` for a remainder of 10.
    :raises InvalidValue: on a wrong length or a character a VIN cannot hold.
    """
    text = _vin_shape(vin)
    remainder = sum(_VIN_VALUES[ch] * w for ch, w in zip(text, _VIN_WEIGHTS, strict=True)) % 11
    return "X" if remainder == 10 else str(remainder)


def validate_vin(value) -> str:
    """Accept a vehicle identification number (ISO 3779, check digit in position 9).

    Spaces and dashes are removed, full-width characters folded and letters upper-cased.

    :param value: what was typed, e.g. ``"1m8gdm9axkp042788"``.
    :returns: the 17 upper-case characters, e.g. ``"1M8GDM9AXKP042788"``.
    :raises InvalidValue: ``code`` is ``"length"``, ``"character"`` or ``"check"``.
    """
    if value.__class__ is str and len(value) == 17 and value.isascii():
        text = value.upper()
        try:
            remainder = sum(t[ch] for t, ch in zip(_VIN_TABLES, text, strict=True)) % 11
        except KeyError:
            remainder = None  # a character a VIN cannot hold: named below
        if remainder is not None and text[8] == ("X" if remainder == 10 else str(remainder)):
            return text  # the quick way for a VIN in its normal form (bulk imports)
    text = _vin_shape(value)
    if text[8] != vin_check_digit(text):
        raise InvalidValue(
            _l("This VIN's check digit (9th character) does not match; check for a typo."),
            code="check",
        )
    return text


def make_vin(rng: random.Random, wmi: str = "LVS") -> str:
    """Generate a valid VIN.

    :param rng: the random source.
    :param wmi: the 3-character world manufacturer identifier (``L`` = made in China).
    :returns: a 17-character VIN with a model-year code in position 10 and a numeric
        serial in positions 12–17, which :func:`validate_vin` accepts.
    :raises ValueError: if ``wmi`` is not 3 valid VIN characters.
    """
    if len(wmi) != 3 or any(ch not in _VIN_VALUES for ch in wmi):
        raise ValueError(f"wmi must be 3 VIN characters, not {wmi!r}")
    vds = "".join(rng.choice(_VIN_CHARS) for _ in range(5))
    year = rng.choice(_VIN_YEAR_CODES)
    plant = rng.choice(_VIN_CHARS)
    serial = f"{rng.randrange(1_000_000):06d}"
    draft = f"{wmi}{vds}0{year}{plant}{serial}"
    return draft[:8] + vin_check_digit(draft) + draft[9:]


# --------------------------------------------------------------------------- adapters


def marshmallow_validator(fn: Callable[[object], object]) -> Callable[[object], None]:
    """Wrap a ``validate_*`` function for a marshmallow 4 field's ``validate=``.

    marshmallow 4 ignores a validator's return value, so the wrapper raises
    :class:`marshmallow.ValidationError` with the translated message instead. It cannot
    change the loaded value: the service still calls the ``validate_*`` function to get
    the normalised form it stores.

    :param fn: a function that raises :class:`InvalidValue` on bad input.
    :returns: a callable taking the field's value.
    """

    def validator(value: object) -> None:
        try:
            fn(value)
        except InvalidValue as exc:
            raise MarshmallowValidationError(str(exc.message)) from exc

    validator.__name__ = validator.__qualname__ = f"marshmallow_{fn.__name__}"
    return validator


def wtforms_validator(fn: Callable[[object], object]) -> Callable[[object, object], None]:
    """Wrap a ``validate_*`` function as a WTForms validator ``(form, field)``.

    Like WTForms' own ``Regexp``, it refuses an empty field; put
    :class:`wtforms.validators.Optional` before it on a field that may stay empty.
    ``field.data`` is left as typed; the view or service normalises it.

    :param fn: a function that raises :class:`InvalidValue` on bad input.
    :returns: a callable for a field's ``validators=[...]``.
    """

    def validator(form: object, field: object) -> None:
        try:
            fn(field.data)
        except InvalidValue as exc:
            raise WTFormsValidationError(str(exc.message)) from exc

    validator.__name__ = validator.__qualname__ = f"wtforms_{fn.__name__}"
    return validator
