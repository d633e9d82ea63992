"""Pictures of sessions for papers and slides: a timeline and a transition diagram.

matplotlib is an optional extra (``pip install 'mbtkg[plots]'``); without it every function
here raises :class:`MissingExtraError` with that sentence. Pictures are PNG or SVG, chosen by the
output file's name; SVG keeps text as text, so labels stay editable and searchable.
"""

from __future__ import annotations

from .common import FORMATS, MissingExtraError
from .timeline import plot_timeline
from .transitions import plot_transitions

__all__ = ["FORMATS", "MissingExtraError", "plot_timeline", "plot_transitions"]
