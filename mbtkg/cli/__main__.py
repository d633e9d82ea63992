"""``python -m mbtkg.cli``: the ``mbtkg`` command."""

from __future__ import annotations

from . import main

if __name__ == "__main__":
    main(prog_name="mbtkg")
