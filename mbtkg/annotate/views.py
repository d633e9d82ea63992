"""What the page is sent about a folder and a session: plain JSON-ready dictionaries."""

from __future__ import annotations

from collections.abc import Sequence

from .. import vocab
from ..analysis.agreement import NotEnoughCoders, agreement
from ..concepts import default_index
from ..errors import MbtkgError
from ..loading import ontology_graph_quads
from ..sessions.model import Session
from ..sessions.to_rdf import session_to_rdf
from ..stores.oxigraph import OxigraphStore
from .catalog import codable_concepts
from .workspace import Checked, Workspace


def file_summary(workspace: Workspace, name: str) -> dict[str, object]:
    """One row of the session list: counts and validation state."""
    try:
        checked = workspace.check(name)
    except MbtkgError as exc:
        return {"file": name, "state": "unreadable", "problems": 1, "message": str(exc)}
    s = checked.session
    return {
        "file": name,
        "session": s.id if s else None,
        "turns": len(s.turns) if s else None,
        "annotations": len(s.annotations) if s else None,
        "annotators": [a.id for a in s.annotators] if s else [],
        "problems": len(checked.problems),
        "state": "unreadable" if s is None else ("ok" if not checked.problems else "violations"),
    }


def session_view(checked: Checked) -> dict[str, object]:
    """A session as the session view shows it: turns, annotations, problems, agreement."""
    s = checked.session
    out: dict[str, object] = {
        "file": checked.name,
        "version": checked.version,
        "problems": [p.as_json() for p in checked.problems],
    }
    if s is None:
        out["session"] = None
        return out
    index = default_index()
    family = {c.iri: c.family for c in codable_concepts()}
    out["session"] = {
        "id": s.id,
        "participants": [{"id": p.id, "role": p.role} for p in s.participants],
        "annotators": [a.id for a in s.annotators],
        "turns": [{"id": t.id, "speaker": t.speaker, "text": t.text} for t in s.turns],
        "annotations": [
            {
                "id": a.id,
                "concept": a.concept_name,
                "iri": a.concept_iri,
                "label": index.label(a.concept_iri) if a.concept_iri else a.concept_name,
                "family": family.get(a.concept_iri or "", "other"),
                "start": a.start,
                "end": a.end,
                "annotator": a.annotator,
                "confidence": a.confidence,
                "quote": a.quote,
                "note": a.note,
                "suggested": a.suggested,
                "relations": _relations(a.relations),
            }
            for a in s.annotations
        ],
    }
    out["agreement"] = agreement_view(s)
    return out


def _relations(relations: Sequence[object]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in relations:
        out.setdefault(getattr(r, "name"), []).append(getattr(r, "target"))  # noqa: B009
    return out


def agreement_view(session: Session) -> dict[str, object]:
    """The session's agreement figures (the analysis of ``mbtkg analyze agreement``)."""
    if len({a.annotator for a in session.annotations if a.annotator}) < 2:
        return {"message": "one annotator only: agreement needs two coders of the same turns"}
    store = OxigraphStore(None)
    try:
        graph = session_to_rdf(session)
        store.replace_graphs(
            {vocab.ONTOLOGY_GRAPH: ontology_graph_quads(), graph.graph: graph.quads}
        )
        report = agreement(store, session.id)
    except NotEnoughCoders as exc:
        return {"message": str(exc)}
    except MbtkgError as exc:
        return {"message": f"agreement not computed: {exc}"}
    finally:
        store.close()
    return {
        "coders": list(report.coders),
        "statistic": report.statistic,
        "units": report.units,
        "first": report.first_unit,
        "last": report.last_unit,
        "concept_mean": report.mean("concept"),
        "family_mean": report.mean("family"),
        "codes": [
            {
                "level": c.level,
                "code": c.code,
                "value": c.value,
                "band": c.band,
                "observed": c.observed,
            }
            for c in report.codes
        ],
    }
