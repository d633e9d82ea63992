"""``python -m mbtkg.cli``: the ``mbtkg`` command."""

from __future__ import annotations

from . import main

main(prog_name="mbtkg")
