"""公民身份号码 (GB 11643-1999): the one identity of a person across declarations, bars and the
one-route-per-year rule (docs/rules.md §2.1)."""

from __future__ import annotations

__all__ = ["check_digit", "id_number_problem", "normalise_id_number"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def normalise_id_number(value: str) -> str:
    """Trimmed, with a lower-case ``x`` check character made upper-case."""
    return value.strip().upper()


def check_digit(first17: str) -> str:
    """The check character of the first 17 digits (ISO 7064 MOD 11-2)."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def id_number_problem(value: str) -> str | None:
    """Why ``value`` is not a valid 18-character ID number (after normalising), or None."""
    number = normalise_id_number(value)
    if len(number) != 18:
        return f"身份证号须为18位 / an ID number has 18 characters, got {len(number)}"
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return "身份证号前17位须为数字，末位为数字或X / 17 digits and a digit or X"
    if check_digit(number[:17]) != number[17]:
        return "身份证号校验位不正确 / the ID number's check digit is wrong (GB 11643)"
    return None
