"""Tables answered study chunk by study chunk (kb.chunked) equal the one-store answer: the bundled KB and a
synthetic KB, with a chunk of 1 study and of 7 studies against one chunk holding them all."""

import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

import explorer.study
from extract.synth import generate
from kb.build import build_sheets
from kb.chunked import split, study_id_of_study, study_of
from kb.materialise import MATERIALISED, forget
from kb.store import OxigraphKB
from terms.iri import arm_iri, group_iri, publication_iri, statistic_iri, study_iri
from terms.namespaces import ID, SYNTH_ID
from tests.conftest import ROOT

# The study page's whole-answer queries (explorer.study): each projects ?study.
PER_STUDY = sorted(v for v in vars(explorer.study).values() if isinstance(v, str) and "SELECT ?study " in v)


pytestmark = pytest.mark.usefixtures("no_tables_in_memory")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("synth")
    generate(23, root / "sheets", seed=11)
    _, data, _ = build_sheets(root / "sheets", jobs=1)
    (root / "studies.ttl").write_bytes(data)
    return root / "studies.ttl"


@pytest.mark.parametrize("base", [ID, SYNTH_ID], ids=["real", "synthetic"])
def test_a_nodes_study_is_read_back_from_the_iri_rules(base):
    assert study_of(str(group_iri("pub-1", "stampede", "ctl", base))) == "stampede"
    assert study_of(str(statistic_iri("pub-1", "stampede", "os-hr", base))) == "stampede"
    assert study_of(str(arm_iri("stampede", "exp", base))) == "stampede"
    assert study_of(str(study_iri("stampede", base))) is None  # a study block goes to every chunk
    assert study_of(str(publication_iri("pub-1", base))) is None
    assert study_of(str(publication_iri("pub-1", base)) + "/page/5ca9aaa7970d") is None  # a page: every chunk
    assert study_id_of_study(str(study_iri("stampede", base))) == "stampede"
    assert study_id_of_study(str(arm_iri("stampede", "exp", base))) is None


def _answers(path: Path, chunk_studies: int) -> dict[str, pd.DataFrame]:
    return OxigraphKB(path, chunk_studies=chunk_studies)._tables(only=None, typed=dict(enumerate_texts()))


def enumerate_texts() -> list[tuple[str, str]]:
    return [(f"per-study-{i}", text) for i, text in enumerate(PER_STUDY)]


@pytest.mark.parametrize("which", ["bundled", "synthetic"])
@pytest.mark.parametrize("chunk_studies", [1, 7])
def test_chunked_tables_equal_the_one_store_answer(which, chunk_studies, synthetic, tmp_path):
    path = tmp_path / "studies.ttl"
    shutil.copy(ROOT / "data" / "studies.ttl" if which == "bundled" else synthetic, path)
    chunks = split(path, chunk_studies)
    assert chunks is not None  # the split path is the one under test
    studies = sum(len(group) for group in chunks.studies)
    assert len(chunks.files) == math.ceil(studies / chunk_studies) > 1
    chunks.close()
    assert len(PER_STUDY) >= 5
    expected = _answers(path, chunk_studies=10**9)  # one store
    got = _answers(path, chunk_studies=chunk_studies)
    assert set(got) == set(expected) == {f"{n}-lexical" for n in MATERIALISED} | {n for n, _ in enumerate_texts()}
    for name, frame in expected.items():
        assert len(frame) > 0 or (which == "synthetic" and not name.endswith("-lexical")), name  # no inputs, notes
        if name.endswith("-lexical"):  # the table queries: the same rows in the same (ORDER BY) order
            pd.testing.assert_frame_equal(got[name], frame, obj=name)
            continue
        # a per-study answer is read one study at a time (select_per_study): each study's rows, in order
        assert len(got[name]) == len(frame) and list(got[name].columns) == list(frame.columns), name
        for study, rows in frame.groupby("study", sort=False):
            mine = got[name][got[name]["study"] == study].reset_index(drop=True)
            pd.testing.assert_frame_equal(mine, rows.reset_index(drop=True), obj=f"{name} {study}")


def test_a_first_reader_of_one_table_keeps_the_others(synthetic, tmp_path):
    """One pass over the chunks answers every table: a later reader of another table reads the cache."""
    path = tmp_path / "studies.ttl"
    shutil.copy(synthetic, path)
    kb = OxigraphKB(path, chunk_studies=5)
    kb.select_named_lexical("evidence", {})
    forget()
    fresh = OxigraphKB(path, chunk_studies=5)
    for name in MATERIALISED:
        fresh.cached(f"{name}-lexical", lambda: pytest.fail("computed again"))
    assert kb._store is None and fresh._store is None  # the whole graph was never loaded


def test_a_file_the_split_cannot_read_is_answered_from_one_store(tmp_path):
    path = tmp_path / "studies.ttl"
    text = (ROOT / "data" / "studies.ttl").read_text(encoding="utf-8")
    path.write_text(text + '\n<https://example.org/x> <https://example.org/p> """two\nlines""" .\n', encoding="utf-8")
    assert split(path, 1) is None
    nt = tmp_path / "studies.nt"
    nt.write_text("", encoding="utf-8")
    assert split(nt, 1) is None
    assert split(ROOT / "data" / "studies.ttl", 10**9) is None  # small enough for one store


def test_materialise_keeps_the_study_pages_answers_without_the_whole_store(synthetic, tmp_path, monkeypatch):
    from explorer.study import study_page
    from kb.chunked import CHUNK_ENV
    from kb.query import run_named

    monkeypatch.setenv(CHUNK_ENV, "4")
    path = tmp_path / "studies.ttl"
    shutil.copy(synthetic, path)
    kb = OxigraphKB(path)
    assert kb.chunk_studies == 4
    kb.materialise(PER_STUDY)
    forget()
    fresh = OxigraphKB(path)
    ids = list(run_named(fresh, "studies", lexical=True)["study_id"])
    assert len(ids) == 23
    assert study_page(fresh, ids[-1]) is not None
    assert kb._store is None and fresh._store is None  # neither the pass nor the page loaded the whole graph
