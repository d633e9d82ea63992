"""How a reader's message shows a value it found where something else was expected.

Session text is clinical data, and a misplaced cell or a shifted YAML item can put a turn's
words where an id, a number or a date belongs. So a message shows a found value as written only
when it is short and looks like a token (an id, a number, a date, a role: at most 24 characters
and two words); anything longer is named by its kind and length, and lists and mappings by
their size (a short list of numbers is shown). The message still names the file, the line and the field.
"""

from __future__ import annotations

import datetime as dt

#: The longest text a message shows as written.
SHOWN_LENGTH = 24


def found(value: object, *, words: int = 2, length: int = SHOWN_LENGTH) -> str:
    """``value`` as a message may show it; ``words`` and ``length`` bound a text shown as
    written (a concept name may be longer than an id: ``words=4, length=40``).

    >>> found("2025-13-01"), found(3), found("P 1")
    ("'2025-13-01'", '3', "'P 1'")
    >>> found("I felt nothing at all that day")
    'a text of 30 characters'
    >>> found(["a", "b"]), found({"a": 1}), found([1, 2, 3])
    ('a list of 2 items', 'a mapping with 1 key', '[1, 2, 3]')
    """
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        # YAML reads yes/no/true/false/on/off unquoted as this
        return f"the yes/no value {str(value).lower()}"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        if not value:
            return "an empty text"
        if len(value) <= length and len(value.split()) <= words and value.isprintable():
            return repr(value)
        return f"a text of {len(value)} characters"
    if isinstance(value, list | tuple):
        if len(value) <= 5 and all(_is_number(v) for v in value):
            return repr(list(value))
        return f"a list of {len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, dict):
        return f"a mapping with {len(value)} key{'' if len(value) == 1 else 's'}"
    return _kind(value)


def _kind(value: object) -> str:
    """What a value is, in words a reader of the file knows (never a Python class name).

    >>> _kind(dt.datetime(2025, 3, 1, 10, 0)), _kind(dt.date(2025, 3, 1)), _kind(b"x")
    ('a date with a time of day', 'a date', 'a value that is not text')
    """
    if isinstance(value, dt.datetime):
        return "a date with a time of day"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, dt.time):
        return "a time of day"
    if isinstance(value, set | frozenset):
        return f"a set of {len(value)} item{'' if len(value) == 1 else 's'}"
    return "a value that is not text"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
