"""Write sessions and the ontology for QDA tools (REFI-QDA): a project (``.qdpx``) and a
code book (``.qdc``).

``guids`` mints the stable GUIDs, ``codebook`` turns the ontology's codable concepts into a
code tree, ``xml_text`` serialises REFI-QDA documents, ``project`` writes a project archive of
stored sessions. The importer (:mod:`mbtkg.sessions.qdpx_reader`) reads the result back.
"""

from __future__ import annotations

from .codebook import CodeNode, codable_iris, codebook_tree, codebook_xml
from .project import QdpxExport, export_qdpx

__all__ = [
    "CodeNode",
    "QdpxExport",
    "codable_iris",
    "codebook_tree",
    "codebook_xml",
    "export_qdpx",
]
