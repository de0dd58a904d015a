"""Read every extraction sheet under a directory, check each against the schema and all of them against
each other (unique ids, references that exist), and report every problem at once."""

from __future__ import annotations

import gc
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from extract.schema import PublicationSheet, StudySheet
from extract.schema_rob import rob_sources
from extract.synth import MARKER
from extract.yaml_io import line_of, load_sheet
from terms.errors import InputError, Problem

DEFAULT_ROOT = Path("data/extractions")


@dataclass
class Extractions:
    """All sheets, by id, and the file each came from."""

    studies: dict[str, StudySheet] = field(default_factory=dict)
    publications: dict[str, PublicationSheet] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # "study:<id>" / "publication:<id>" -> file
    synthetic: bool = False  # made by `oligokb synth` (a SYNTHETIC marker in the directory)
    # "study:<id>" / "publication:<id>" of the sheets that failed to load (named by their file): their
    # problems are reported once, so references to them are not reported again as unknown.
    unreadable: set[str] = field(default_factory=set)

    def known(self, kind: str, sheet_id: str) -> bool:
        """A sheet of this id exists, loaded or not (a broken one is reported where it is broken)."""
        key = f"{kind}:{sheet_id}"
        return key in self.files or key in self.unreadable


def _loc_text(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_LOC_PART = re.compile(r"\[(\d+)\]|\.?([A-Za-z_][A-Za-z0-9_]*)")
# A list item is named by its id field; a report by the study it reports on.
_ITEM_NAMES = {"reports": ("report on", "study"), "statistics": ("statistic", "id"), "groups": ("group", "id")}
_ITEM_NAMES |= {"arms": ("arm", "id"), "inputs": ("input", "name")}


def _loc_of(text: str) -> tuple:
    """'reports[0].groups[1].arm' -> ('reports', 0, 'groups', 1, 'arm') (the inverse of _loc_text)."""
    return tuple(int(m[1]) if m[1] else m[2] for m in _LOC_PART.finditer(text))


def field_path(data: Any, loc: tuple) -> str:
    """The field path, followed by the ids of the items on it, so a reader finds the statistic or group
    without counting list items: 'reports[0].statistics[2].ci.level (report on palma-sabr-comet,
    statistic os-hr)'."""
    names, node, key = [], data, None
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            node = node[part]
            what, id_key = _ITEM_NAMES.get(str(key), ("", ""))
            if what and isinstance(node, dict) and isinstance(node.get(id_key), str):
                names.append(f"{what} {node[id_key]}")
        elif isinstance(part, str) and isinstance(node, dict):
            key, node = part, node.get(part)
        else:
            break
    return _loc_text(loc) + (f" ({', '.join(names)})" if names else "")


def locate(problems: list[Problem]) -> list[Problem]:
    """Cross-sheet problems (found on the parsed sheets, which keep no lines) with the line of their
    field and the ids on its path, read again from their files: only when there are problems to report."""
    loaded: dict[str, Any] = {}
    out = []
    for p in problems:
        if p.line is not None or not p.field or not p.file.endswith(".yaml"):
            out.append(p)
            continue
        if p.file not in loaded:
            try:
                loaded[p.file] = load_sheet(Path(p.file))
            except InputError:
                loaded[p.file] = None
        data, loc = loaded[p.file], _loc_of(p.field)
        if data is None or _loc_text(loc) != p.field:
            out.append(p)
            continue
        out.append(replace(p, field=field_path(data, loc), line=line_of(data, loc)))
    return out


def _fix_for(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return "add this field"
    if kind == "extra_forbidden":
        return "remove or rename this field (see docs/extraction-sheets.md for the allowed fields)"
    if kind == "literal_error":
        return "use one of the allowed values"
    return ""


def parse_sheet(path: Path, display: str | None = None) -> StudySheet | PublicationSheet:
    """One sheet -> a typed object, or InputError listing every problem with file, field path and line."""
    name = display or str(path)
    data = load_sheet(path, name)
    if not isinstance(data, dict) or data.get("kind") not in ("study", "publication"):
        raise InputError(
            Problem(
                name,
                "kind",
                "a sheet is a YAML mapping that starts with kind: study or kind: publication",
                "add `kind: study` or `kind: publication` as the first line",
                line_of(data, ("kind",)),
            )
        )
    model = StudySheet if data["kind"] == "study" else PublicationSheet
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(Problem(name, field_path(data, loc), msg, _fix_for(err), line_of(data, loc)))
        raise InputError(problems) from None


def sheet_paths(root: Path) -> tuple[list[Path], list[Problem]]:
    """The sheets under root/studies and root/publications, and a problem for every stray file."""
    if not root.is_dir():
        raise InputError(
            Problem(
                str(root),
                "",
                "the extraction directory does not exist",
                "run from the repository root or pass --sheets DIR",
            )
        )
    paths = sorted(root.glob("studies/*.yaml")) + sorted(root.glob("publications/*.yaml"))
    stray = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".yml", ".YAML", ".json"))
    return paths, [
        Problem(str(p), "", "sheets must end in .yaml and live in studies/ or publications/", "rename or move it")
        for p in stray
    ]


def is_synthetic(root: Path) -> bool:
    """Sheets written by `oligokb synth` (a SYNTHETIC marker in the directory)."""
    return (root / MARKER).exists()


def try_parse(path: Path) -> StudySheet | PublicationSheet | list[Problem]:
    """parse_sheet, with its problems returned instead of raised."""
    try:
        return parse_sheet(path)
    except InputError as exc:
        return exc.problems


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while many long-lived objects are made (sheets hold no cycles
    worth collecting): each full collection walks every object made so far, which made loading tens of
    thousands of sheets superlinear."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_extractions(root: Path = DEFAULT_ROOT) -> Extractions:
    """Every sheet under root/studies and root/publications, cross-checked. Raises InputError."""
    paths, problems = sheet_paths(root)
    with gc_paused():
        return collect(root, ((path, try_parse(path)) for path in paths), problems)


def collect(
    root: Path,
    parsed: Iterable[tuple[Path, StudySheet | PublicationSheet | list[Problem]]],
    problems: list[Problem] | None = None,
) -> Extractions:
    """The sheets parsed from their paths (in sheet_paths' order), checked against each other: every
    problem at once, as InputError."""
    out = Extractions(synthetic=is_synthetic(root))
    problems = list(problems or [])
    for path, sheet in parsed:
        if isinstance(sheet, list):
            problems.extend(sheet)
            out.unreadable.add(f"{'study' if path.parent.name == 'studies' else 'publication'}:{path.stem}")
            continue
        expected_kind = "study" if path.parent.name == "studies" else "publication"
        if sheet.kind != expected_kind:
            problems.append(
                Problem(
                    str(path),
                    "kind",
                    f"a {sheet.kind} sheet in {path.parent.name}/",
                    f"move it to {sheet.kind}s/ or fix kind",
                )
            )
            continue
        key = f"{sheet.kind}:{sheet.id}"
        if key in out.files:
            problems.append(
                Problem(
                    str(path),
                    "id",
                    f"duplicate {sheet.kind} id {sheet.id!r}, also in {out.files[key]}",
                    "give each sheet its own id",
                )
            )
            continue
        if path.stem != sheet.id:
            problems.append(
                Problem(
                    str(path),
                    "id",
                    f"the id {sheet.id!r} differs from the file name {path.stem!r}",
                    f"rename the file to {sheet.id}.yaml",
                )
            )
        out.files[key] = str(path)
        (out.studies if sheet.kind == "study" else out.publications)[sheet.id] = sheet  # type: ignore[assignment]
    problems.extend(cross_check(out))
    if problems:
        raise InputError(locate(problems))
    return out


def cross_check(ex: Extractions) -> list[Problem]:
    """References between sheets: studies, arms, supersedes, overlaps, assignment sources."""
    problems: list[Problem] = []
    for sid, study in ex.studies.items():
        file = ex.files[f"study:{sid}"]
        for other in study.overlaps_with:
            if not ex.known("study", other):
                problems.append(
                    Problem(file, "overlaps_with", f"unknown study {other!r}", "add its study sheet or fix the id")
                )
        sources = [("oligo_state.inputs", i.source) for i in study.oligo_state.inputs]
        if study.histology_composition is not None:
            sources.append(("histology_composition.source", study.histology_composition.source))
        sources.extend(rob_sources(study))  # a risk-of-bias quote cites a publication like any other quote
        for where, src in sources:
            if src.publication is None:
                problems.append(
                    Problem(
                        file,
                        where,
                        "source.publication is required in a study sheet",
                        "name the publication the quote is from",
                    )
                )
            elif not ex.known("publication", src.publication):
                problems.append(
                    Problem(
                        file,
                        where,
                        f"unknown publication {src.publication!r}",
                        "add its publication sheet or fix the id",
                    )
                )
    for pid, pub in ex.publications.items():
        file = ex.files[f"publication:{pid}"]
        for i, old in enumerate(pub.supersedes):
            if old not in ex.publications:
                if not ex.known("publication", old):
                    problems.append(Problem(file, f"supersedes[{i}]", f"unknown publication {old!r}", "fix the id"))
            elif old == pid:
                problems.append(Problem(file, f"supersedes[{i}]", "a publication cannot supersede itself"))
            elif not {r.study for r in ex.publications[old].reports} & {r.study for r in pub.reports}:
                problems.append(
                    Problem(file, f"supersedes[{i}]", f"{old!r} reports on none of this publication's studies")
                )
        for r, report in enumerate(pub.reports):
            reported = ex.studies.get(report.study)
            if reported is None:
                if ex.known("study", report.study):
                    continue
                problems.append(
                    Problem(
                        file,
                        f"reports[{r}].study",
                        f"unknown study {report.study!r}",
                        "add data/extractions/studies/<id>.yaml or fix the id",
                    )
                )
                continue
            if report.quotes is not None:
                quoted = ex.publications.get(report.quotes.publication)
                where = f"reports[{r}].quotes.publication"
                if quoted is None:
                    if not ex.known("publication", report.quotes.publication):
                        problems.append(
                            Problem(
                                file,
                                where,
                                f"unknown publication {report.quotes.publication!r}",
                                "add its publication sheet or fix the id",
                            )
                        )
                elif quoted.role != "primary":
                    problems.append(
                        Problem(
                            file,
                            where,
                            f"{report.quotes.publication!r} is a secondary report",
                            "name the primary report the figures come from",
                        )
                    )
                elif report.study not in {q.study for q in quoted.reports}:
                    problems.append(
                        Problem(
                            file,
                            where,
                            f"{report.quotes.publication!r} does not report {report.study!r}",
                            "name a report of this study",
                        )
                    )
            arm_ids = [a.id for a in reported.arms]
            roles = {a.id: a.role for a in reported.arms}
            for g, group in enumerate(report.groups):
                if group.arm is not None and group.arm not in arm_ids:
                    problems.append(
                        Problem(
                            file,
                            f"reports[{r}].groups[{g}].arm",
                            f"{group.arm!r} is not an arm of {reported.id}; arms: {arm_ids}",
                        )
                    )
                elif "post_randomisation" in group.subgroup_by and roles.get(group.arm or "") in (
                    "experimental",
                    "control",
                ):
                    problems.append(
                        Problem(
                            file,
                            f"reports[{r}].groups[{g}].arm",
                            f"a post-randomisation subgroup is not the "
                            f"randomised arm {group.arm!r} ({roles.get(group.arm or '')})",
                            "leave arm out and say in the definition which arm it was drawn from",
                        )
                    )
            problems.extend(_flag_targets(ex, file, r, report))
        studies_reported = [r.study for r in pub.reports]
        if len(studies_reported) != len(set(studies_reported)):
            problems.append(Problem(file, "reports", "a study appears in two reports blocks", "merge them"))
    problems.extend(_supersedes_cycles(ex))
    problems.extend(duplicate_records(ex))
    return problems


def duplicate_records(ex: Extractions) -> list[Problem]:
    """Two publication sheets of one DOI or PMID, or two study sheets of one trial registration, name
    both files: a trial must never enter a pool twice. Allowed when one sheet says so: a publication's
    duplicate_record_of names the other, a study's overlaps_with names the other (the pooling then
    leaves the containing study out wherever both are, analysis.policy rule 7)."""
    problems: list[Problem] = []
    seen: dict[tuple[str, str], str] = {}
    for pid, pub in ex.publications.items():
        for kind, value in (("doi", pub.citation.doi), ("pmid", pub.citation.pmid)):
            if value is None:
                continue
            key = (kind, value.lower())  # DOIs are case-insensitive
            other = seen.setdefault(key, pid)
            if other == pid or pub.duplicate_record_of == other or ex.publications[other].duplicate_record_of == pid:
                continue
            problems.append(
                Problem(
                    ex.files[f"publication:{pid}"],
                    f"citation.{kind}",
                    f"{kind} {value} is also the {kind} of {ex.files[f'publication:{other}']}",
                    f"keep one sheet per publication (merge them), or, if both are meant, add "
                    f"duplicate_record_of: {other} to this sheet",
                )
            )
        dup = pub.duplicate_record_of
        if dup is not None and dup not in ex.publications and not ex.known("publication", dup):
            problems.append(
                Problem(ex.files[f"publication:{pid}"], "duplicate_record_of", f"unknown publication {dup!r}")
            )
        elif dup is not None and dup in ex.publications:
            twin = ex.publications[dup].citation
            if not ({pub.citation.doi, pub.citation.pmid} & {twin.doi, twin.pmid}) - {None}:
                problems.append(
                    Problem(
                        ex.files[f"publication:{pid}"],
                        "duplicate_record_of",
                        f"{dup!r} has neither this sheet's DOI nor its PMID",
                        "remove duplicate_record_of: it is for two sheets of one record",
                    )
                )
    registered: dict[str, str] = {}
    for sid, study in ex.studies.items():
        for i, nct in enumerate(study.registry):
            other = registered.setdefault(nct, sid)
            if other == sid or other in study.overlaps_with or sid in ex.studies[other].overlaps_with:
                continue
            problems.append(
                Problem(
                    ex.files[f"study:{sid}"],
                    f"registry[{i}]",
                    f"{nct} is also the registration of {ex.files[f'study:{other}']}",
                    f"one trial is one study sheet: merge them; if this study contains the patients of {other} "
                    f"(or the reverse), say so with overlaps_with: [{other}]",
                )
            )
    return problems


def _flag_targets(ex: Extractions, file: str, r: int, report) -> list[Problem]:
    """A flag's other statistic in another report (<publication>/<study>/stat/<id>) exists."""
    problems = []
    for i, stat in enumerate(report.statistics):
        for f in stat.flags:
            if f.other is None or "/" not in f.other:
                continue
            pub_id, study_id, _, stat_id = f.other.split("/")
            pub = ex.publications.get(pub_id)
            if pub is None and ex.known("publication", pub_id):
                continue
            found = pub is not None and any(
                rep.study == study_id and any(s.id == stat_id for s in rep.statistics) for rep in pub.reports
            )
            if not found:
                problems.append(
                    Problem(
                        file,
                        f"reports[{r}].statistics[{i}].flags",
                        f"other {f.other!r} is not a statistic of the knowledge base",
                        "write <publication>/<study>/stat/<id> of an existing figure",
                    )
                )
    return problems


def _supersedes_cycles(ex: Extractions) -> list[Problem]:
    problems = []
    for start in ex.publications:
        seen, stack = set(), list(ex.publications[start].supersedes)
        while stack:
            node = stack.pop()
            if node == start:
                problems.append(Problem(ex.files[f"publication:{start}"], "supersedes", "supersedes forms a cycle"))
                break
            if node in seen or node not in ex.publications:
                continue
            seen.add(node)
            stack.extend(ex.publications[node].supersedes)
    return problems
