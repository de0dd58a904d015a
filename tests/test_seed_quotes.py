"""Every quote of a sheet that names a source_text is found verbatim (whitespace-normalised) in it."""

from pathlib import Path

import pytest

from extract.schema import normalise_ws
from extract.sheets import load_extractions

ROOT = Path(__file__).resolve().parents[1]
SHEETS = ROOT / "data" / "extractions"


def _quotes(pub):
    for report in pub.reports:
        if report.quotes is not None and report.quotes.source is not None:
            yield f"{report.study}/quotes", report.quotes.source.quote
        for group in report.groups:
            if group.source is not None:
                yield f"{report.study}/group/{group.id}", group.source.quote
        for stat in report.statistics:
            yield f"{report.study}/stat/{stat.id}", stat.source.quote


def _cases():
    ex = load_extractions(SHEETS)
    for pub in ex.publications.values():
        if pub.source_text:
            for where, quote in _quotes(pub):
                yield pytest.param(pub.source_text, quote, id=f"{pub.id}:{where}")
    for study in ex.studies.values():
        sources = [i.source for i in study.oligo_state.inputs]
        if study.histology_composition:
            sources.append(study.histology_composition.source)
        for src in sources:
            pub = ex.publications[src.publication]
            if pub.source_text:
                yield pytest.param(pub.source_text, src.quote, id=f"{study.id}:{src.locator}")


@pytest.mark.parametrize("source_text,quote", list(_cases()))
def test_quote_is_verbatim_in_source(source_text, quote):
    path = (ROOT / source_text).resolve()
    if not path.exists():
        pytest.skip(f"source text {source_text} is not beside this checkout")
    text = normalise_ws(path.read_text(encoding="utf-8"))
    assert normalise_ws(quote) in text
