"""The knowledge base's IRIs, built from sheet ids only, so the same sheets give the same graph.

`id/study/<study>`, `id/pub/<publication>`, `id/pub/<publication>/<study>/group/<group>`,
`id/pub/<publication>/<study>/stat/<statistic>`; synthetic sheets use the same paths under SYNTH_ID.
"""

from __future__ import annotations

from rdflib import Namespace, URIRef

from terms.namespaces import ID


def study_iri(study_id: str, base: Namespace = ID) -> URIRef:
    return base[f"study/{study_id}"]


def arm_iri(study_id: str, arm_id: str, base: Namespace = ID) -> URIRef:
    return base[f"study/{study_id}/arm/{arm_id}"]


def publication_iri(pub_id: str, base: Namespace = ID) -> URIRef:
    return base[f"pub/{pub_id}"]


def group_iri(pub_id: str, study_id: str, group_id: str, base: Namespace = ID) -> URIRef:
    return base[f"pub/{pub_id}/{study_id}/group/{group_id}"]


def statistic_iri(pub_id: str, study_id: str, stat_id: str, base: Namespace = ID) -> URIRef:
    return base[f"pub/{pub_id}/{study_id}/stat/{stat_id}"]
