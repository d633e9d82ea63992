"""Whether sessions keep the format's promises: pySHACL (the reference), the compiled fast
engine, what both share, the checks generated from the ontology's axioms, the cache of
results and the reports written for machines."""
