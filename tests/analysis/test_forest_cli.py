"""`oligokb forest` on the fixture knowledge base: real files, the right formats, clear errors."""

import re

import pytest

from tests.conftest import run_cli

MAGIC = {".svg": (b"<?xml", b"<svg"), ".png": (b"\x89PNG",), ".pdf": (b"%PDF",)}


@pytest.mark.parametrize("suffix", [".svg", ".png", ".pdf"])
def test_forest_writes_each_format(fixture_kb, tmp_path, suffix):
    out = tmp_path / f"plot{suffix}"
    result = run_cli(
        "forest",
        "--outcome",
        "progression-free survival",
        "--statistic",
        "hazard ratio",
        "--by",
        "histology",
        "--include-secondary",
        "--kb",
        str(fixture_kb),
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(MAGIC[suffix]) or out.read_bytes().lstrip().startswith(MAGIC[suffix][-1])
    if suffix == ".svg":
        text = out.read_text()
        assert "0.70 (0.50–0.98)" in text  # the HR and CI as published, at their 80% level
        assert "favours MDT" in text


def test_forest_refuses_unknown_extension_and_writes_nothing(fixture_kb, tmp_path):
    out = tmp_path / "plot.jpg"
    result = run_cli(
        "forest",
        "--outcome",
        "progression-free survival",
        "--statistic",
        "hazard ratio",
        "--kb",
        str(fixture_kb),
        "--out",
        str(out),
    )
    assert result.returncode == 2 and ".svg, .png or .pdf" in result.stderr
    assert not out.exists()


def test_forest_with_nothing_to_plot_says_why(fixture_kb, tmp_path):
    result = run_cli(
        "forest",
        "--outcome",
        "overall survival",
        "--statistic",
        "landmark rate",
        "--timepoint",
        "24",
        "--kb",
        str(fixture_kb),
        "--out",
        str(tmp_path / "x.png"),
    )
    assert result.returncode == 2 and "no estimate passes the pooling policy" in result.stderr


PFS_HR = ("forest", "--outcome", "progression-free survival", "--statistic", "hazard ratio", "--include-secondary")


def test_forest_svg_text_writes_the_text_as_text(fixture_kb, tmp_path):
    outlined, as_text = tmp_path / "outlined.svg", tmp_path / "text.svg"
    assert run_cli(*PFS_HR, "--kb", str(fixture_kb), "--out", str(outlined)).returncode == 0
    result = run_cli(*PFS_HR, "--svg-text", "--kb", str(fixture_kb), "--out", str(as_text))
    assert result.returncode == 0, result.stderr
    in_a_text_element = re.compile(r"<text[^>]*>[^<]*0\.70 \(0\.50–0\.98\)")  # the published HR and CI
    assert in_a_text_element.search(as_text.read_text(encoding="utf-8"))  # editable
    assert not in_a_text_element.search(outlined.read_text(encoding="utf-8"))  # there only glyph outlines
    assert as_text.stat().st_size < outlined.stat().st_size


def test_forest_svg_text_refuses_another_format_and_writes_nothing(fixture_kb, tmp_path):
    out = tmp_path / "plot.png"
    result = run_cli(*PFS_HR, "--svg-text", "--kb", str(fixture_kb), "--out", str(out))
    assert result.returncode == 2 and "--svg-text is for an SVG file" in result.stderr
    assert not out.exists()
