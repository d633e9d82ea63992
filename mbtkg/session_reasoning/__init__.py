"""Reasoning over session data: each session's OWL 2 RL inferred graph, computed on load by
rules compiled from the ontology's closure (``fast``), with ``reasonable`` as the reference
(``reference``), and the relations derived from turn order."""
