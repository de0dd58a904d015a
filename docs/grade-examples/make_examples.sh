#!/usr/bin/env bash
# Regenerate the GRADE examples of docs/grade.md on the bundled knowledge base (run from the repository root).
set -euo pipefail
out=docs/grade-examples
uv run oligokb grade --outcome "progression-free survival" --statistic "hazard ratio" --out $out/pfs-hr.md --figure $out/pfs-hr.png
uv run oligokb grade --outcome "overall survival" --statistic "hazard ratio" --out $out/os-hr.md --figure $out/os-hr.png
uv run oligokb grade --outcome "progression-free survival" --statistic "hazard ratio" --by histology \
  --out $out/pfs-hr-by-histology.md --figure $out/pfs-hr-by-histology.png
