#!/usr/bin/env bash
# Regenerate the example forest plots of the bundled knowledge base (run from the repository root).
set -euo pipefail
out=docs/forest-plots
uv run oligokb forest --outcome "overall survival" --statistic "hazard ratio" --by histology,oligo_state \
  --out $out/os-hr-by-histology-oligo-state.png
uv run oligokb forest --outcome "progression-free survival" --statistic "hazard ratio" --by histology,oligo_state \
  --include-secondary --title "PFS hazard ratios by histology and oligo-state (primary and secondary reports)" \
  --out $out/pfs-hr-by-histology-oligo-state-incl-secondary.png
uv run oligokb forest --outcome "progression-free survival" --statistic "hazard ratio" --include-secondary --test knha \
  --title "PFS hazard ratio, randomised trials, all histologies (REML + Knapp-Hartung; includes secondary claims)" \
  --out $out/pfs-hr-randomised-all-histologies-incl-secondary.png
uv run oligokb forest --outcome "local control" --statistic "landmark rate" --timepoint 24 --by oligo_state \
  --out $out/lc-24m-by-oligo-state.png
uv run oligokb forest --outcome "overall survival" --statistic "landmark rate" --timepoint 24 --by histology \
  --out $out/os-24m-by-histology.png
