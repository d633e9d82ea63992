"""Stable GUIDs for what mbtkg writes into REFI-QDA files.

A GUID is a version-5 UUID of an IRI in a namespace of mbtkg's own, so the same concept gets
the same code GUID in every export and code book, and re-exporting a session gives the same
source and selection GUIDs. QDA tools may mint new GUIDs on their own exports; the importer
maps codes back by name, so nothing depends on a tool keeping them.
"""

from __future__ import annotations

import uuid

#: The namespace of every GUID mbtkg mints (itself a UUID5 of the project's base IRI).
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://w3id.org/mbtkg/qda")


def guid(iri: str) -> str:
    """The GUID of an IRI, in the upper-case form QDA tools write.

    >>> guid("https://w3id.org/mbtkg/ontology#Repair") == guid("https://w3id.org/mbtkg/ontology#Repair")
    True
    >>> len(guid("x"))
    36
    """
    return str(uuid.uuid5(NAMESPACE, iri)).upper()
