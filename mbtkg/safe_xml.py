"""Parse untrusted XML with the standard library, refusing DTDs and entity declarations.

REFI-QDA projects and ELAN files never need a document type declaration, so any
``<!DOCTYPE``, ``<!ENTITY`` or external reference is refused before the tree is built: that
closes external entities (file or network reads) and entity expansion ("billion laughs").
Element names are returned without their namespace, so files with and without the
REFI namespace read alike.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.parsers import expat

from .errors import InputError, LimitExceededError, Location
from .input_limits import MAX_DEPTH


class UnsafeXmlError(InputError):
    """An XML document declares a DTD or entities, which mbtkg refuses to process."""


class _Refused(Exception):
    def __init__(self, what: str, line: int) -> None:
        self.what = what
        self.line = line


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def _prescan(data: bytes) -> None:
    """Walk the document with expat and stop at the first DTD or entity declaration."""
    parser = expat.ParserCreate()

    def doctype(name: str, *_: object) -> None:
        raise _Refused(f"a document type declaration (<!DOCTYPE {name}>)", parser.CurrentLineNumber)

    def entity(name: str, *_: object) -> None:
        raise _Refused(f"an entity declaration (<!ENTITY {name}>)", parser.CurrentLineNumber)

    def external(*_: object) -> int:
        raise _Refused("an external entity reference", parser.CurrentLineNumber)

    depth = 0

    def start(*_: object) -> None:
        nonlocal depth
        depth += 1
        if depth > MAX_DEPTH:
            raise _TooDeep(parser.CurrentLineNumber)

    def end(*_: object) -> None:
        nonlocal depth
        depth -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.ExternalEntityRefHandler = external
    parser.Parse(data, True)


def parse_xml(data: bytes, source: str) -> ET.Element:
    """Parse XML bytes into an element tree with namespace-free tags.

    Raises UnsafeXmlError for a DTD or entity declaration and InputError (with the line)
    for XML that is not well formed; ``source`` names the document in messages.

    >>> parse_xml(b'<a xmlns="urn:x"><b/></a>', "t.xml")[0].tag
    'b'
    """
    try:
        _prescan(data)
    except _Refused as refused:
        raise UnsafeXmlError(
            f"refused: the XML contains {refused.what}; mbtkg does not process DTDs or entities "
            "(they can read local files or expand without bound)",
            Location(source, refused.line),
        ) from None
    except _TooDeep as deep:
        raise LimitExceededError(
            f"elements nest more than {MAX_DEPTH} levels deep here, the limit mbtkg reads; "
            "a project or ELAN file needs far fewer",
            Location(source, deep.line),
        ) from None
    except expat.ExpatError as exc:
        raise InputError(
            f"not well-formed XML: {expat.ErrorString(exc.code)}",
            Location(source, exc.lineno, exc.offset + 1),
        ) from None
    except (LookupError, ValueError) as exc:  # an encoding Python has no codec for, e.g. UTF-7
        raise InputError(
            f"the XML cannot be decoded ({exc}); save it as UTF-8", Location(source)
        ) from None
    try:
        root = ET.fromstring(data)
    except (LookupError, ValueError) as exc:
        raise InputError(
            f"the XML cannot be decoded ({exc}); save it as UTF-8", Location(source)
        ) from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise InputError(
            f"not well-formed XML: {exc}", Location(source, line, column + 1)
        ) from None
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            element.tag = element.tag.split("}", 1)[1]
    return root
