"""``mbtkg annotate``: a coding workbench in the browser over a folder of YAML session files.

``workspace`` (which files may be touched; read and validate one), ``yaml_edit`` (edits that
keep comments and layout, written atomically over the version the page saw), ``catalog`` (the
codable concepts), ``suggest`` (BM25 baseline and sentence-embedding ranker), ``evaluation``
(their agreement with human codes), ``views`` (what the page is sent), ``server`` (the local
HTTP app: token, Host and Origin checks, bounded bodies), ``static/`` (the page).
"""

from __future__ import annotations
