"""Phone number normalisation to E.164, with no dependency on Odoo.

Caller IDs arrive in many shapes (``+8613812345678``, ``008613812345678``,
``13812345678``, ``010-8765-4321 转 123``).  Every stored number and every
incoming caller ID is reduced to one canonical E.164 string so that a lookup
is a single exact match on an indexed column.
"""

import functools
import re
from collections import namedtuple

import phonenumbers

NormalizedNumber = namedtuple("NormalizedNumber", ["e164", "is_valid", "extension"])

# An extension written after the number: "转 123", "分机123", "ext. 12", "x12", "#12"
_EXTENSION_RE = re.compile(
    r"\s*(?:转|轉|分机|分機|ext\.?|extension|x|#)\s*(\d{1,8})\s*$",
    re.IGNORECASE,
)
_KEEP_RE = re.compile(r"[^\d+]")


def split_extension(raw):
    """Split a trailing extension from a typed number.

    :return: ``(number_text, extension or None)``
    """
    match = _EXTENSION_RE.search(raw)
    if not match:
        return raw, None
    return raw[: match.start()], match.group(1)


def _clean(text):
    """Keep digits and a leading ``+``; turn an ``00`` international prefix
    into ``+``."""
    text = text.strip().replace("\uff0b", "+")  # full-width plus
    digits = _KEEP_RE.sub("", text)
    plus = digits.startswith("+")
    digits = digits.replace("+", "")
    if plus:
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    return digits


_CN_MOBILE_CANDIDATE = re.compile(r"(?:\+86)?(1\d{10})")
_cn_mobile_pattern = []


def _cn_mobile_fast_path(cleaned, region):
    """E.164 of a valid Chinese mobile number without a full parse, or None.

    The number is accepted only when it matches phonenumbers' own pattern for
    CN mobiles (so the result is the one ``parse`` + ``is_valid_number`` give);
    anything else takes the full path.
    """
    if not cleaned.startswith("+86") and (region != "CN" or cleaned[:1] == "+"):
        return None
    match = _CN_MOBILE_CANDIDATE.fullmatch(cleaned)
    if not match:
        return None
    if not _cn_mobile_pattern:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
        _cn_mobile_pattern.append(re.compile(metadata.mobile.national_number_pattern))
    if _cn_mobile_pattern[0].fullmatch(match.group(1)):
        return "+86" + match.group(1)
    return None


def normalize_number(raw, region="CN"):
    """Normalise a typed phone number.

    :param raw: the number as typed or received (str, int or None)
    :param region: ISO country code used for national numbers (``"CN"``)
    :return: ``NormalizedNumber(e164, is_valid, extension)``; ``e164`` is
        ``None`` when the text cannot be read as a possible phone number, and
        ``is_valid`` is ``False`` when it is not a valid number of its country.
    """
    if raw is None or raw is False:
        return NormalizedNumber(None, False, None)
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text, extension = split_extension(str(raw).strip())
    cleaned = _clean(text)
    if len(cleaned.lstrip("+")) < 3:
        return NormalizedNumber(None, False, extension)
    region = (region or "CN").upper()
    fast = _cn_mobile_fast_path(cleaned, region)
    if fast:
        return NormalizedNumber(fast, True, extension)
    try:
        parsed = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        return NormalizedNumber(None, False, extension)
    if not phonenumbers.is_possible_number(parsed):
        return NormalizedNumber(None, False, extension)
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return NormalizedNumber(e164, phonenumbers.is_valid_number(parsed), extension)


def caller_id_variants(raw, region="CN"):
    """Every E.164 form a caller ID may stand for.

    A switch may deliver the caller ID without its ``+`` (``8613812345678``)
    or in national form (``13812345678``); both readings are returned so the
    lookup can match them exactly in one query.

    :return: a sorted list of distinct E.164 strings (may be empty)
    """
    if raw is None or raw is False:
        return []
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return list(_caller_id_variants(str(raw).strip(), (region or "CN").upper()))


@functools.lru_cache(maxsize=4096)
def _caller_id_variants(text, region):
    """:func:`caller_id_variants` of a stripped text, as a tuple (cached: the
    same callers ring again and again, and a full phonenumbers parse of the
    international reading costs far more than the database lookup)."""
    text, _extension = split_extension(text)
    cleaned = _clean(text)
    variants = set()
    national = normalize_number(cleaned, region)
    if national.e164:
        variants.add(national.e164)
    if cleaned and not cleaned.startswith("+") and len(cleaned) > 8:
        international = normalize_number("+" + cleaned, region)
        if international.e164 and international.is_valid:
            variants.add(international.e164)
    return tuple(sorted(variants))
