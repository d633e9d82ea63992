"""The ontology's own flows: quality checks, reasoning, concept cards, diffs, releases,
documentation, migrations and the spreadsheet review loop."""
