"""Who speaks: the ``--speakers`` option of the importers and role guesses from ids.

Transcripts name speakers by a short label (``T``, ``P``, ``[Therapist]``) or, in ELAN, by a
participant code. A speaker table maps each label to a pseudonymous participant id and a role
(``T=T-1:therapist,P=P-7:patient``). Without one, labels become ids as they are and roles are
guessed from the label only when it plainly says so (``T``, ``T1``, ``Therapist`` ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import InputError
from .model import ROLES

_THERAPIST = re.compile(r"^(t|th|therapist|clinician)([\W_]*\d*)$", re.IGNORECASE)
_PATIENT = re.compile(r"^(p|pt|patient|c|client)([\W_]*\d*)$", re.IGNORECASE)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Speaker:
    """A participant as a transcript names them: label, pseudonymous id, role (or None)."""

    label: str
    id: str
    role: str | None


def guess_role(label: str) -> str | None:
    """A role read from a label that plainly names one, else None.

    >>> guess_role("T"), guess_role("P001"), guess_role("Anna")
    ('therapist', 'patient', None)
    """
    if _THERAPIST.match(label.strip()):
        return "therapist"
    if _PATIENT.match(label.strip()):
        return "patient"
    return None


def slug_id(label: str) -> str:
    """A participant or session id made from a label: letters, digits, '.', '_' and '-'.

    >>> slug_id("Interview 1.txt")
    'Interview-1'
    """
    stem = re.sub(r"\.[A-Za-z0-9]{1,4}$", "", label.strip())
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")
    return text or "x"


def parse_speakers(spec: str | None) -> dict[str, Speaker]:
    """Parse ``LABEL=ID[:ROLE],...`` (``T=T-1:therapist,P=P-7:patient``) into speakers.

    An entry ``LABEL=ID`` guesses the role from the label; ``LABEL`` alone keeps the label as
    the id. Raises InputError naming the bad entry.
    """
    out: dict[str, Speaker] = {}
    if not spec:
        return out
    for raw in spec.split(","):
        entry = raw.strip()
        if not entry:
            continue
        label, _, rest = entry.partition("=")
        label = label.strip()
        ident, _, role = (rest or label).partition(":")
        ident, role = ident.strip(), role.strip().lower()
        if not label or not _ID.match(ident):
            raise InputError(
                f"--speakers entry {entry!r}: expected LABEL=ID[:ROLE] with an id of letters, "
                "digits, '.', '_' and '-', e.g. 'T=T-1:therapist'"
            )
        if role and role not in ROLES:
            raise InputError(
                f"--speakers entry {entry!r}: unknown role {role!r}; expected one of "
                f"{', '.join(ROLES)}"
            )
        out[label] = Speaker(label, ident, role or guess_role(label) or guess_role(ident))
    return out


def parse_roles(spec: str | None) -> dict[str, str]:
    """Parse ``ID=ROLE,...`` (``P001=patient,T01=therapist``); raises InputError.

    >>> parse_roles("P001=patient")
    {'P001': 'patient'}
    """
    out: dict[str, str] = {}
    for raw in (spec or "").split(","):
        entry = raw.strip()
        if not entry:
            continue
        ident, _, role = entry.partition("=")
        ident, role = ident.strip(), role.strip().lower()
        if role not in ROLES:
            raise InputError(
                f"--roles entry {entry!r}: expected ID=ROLE with a role of "
                f"{' or '.join(ROLES)}, e.g. 'P001=patient'"
            )
        out[ident] = role
    return out
