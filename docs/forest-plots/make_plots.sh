#!/usr/bin/env bash
# Regenerate the example forest plots of the bundled knowledge base (run from the repository root).
set -euo pipefail
out=docs/forest-plots
rm -f $out/*.png
# The headline analysis: randomised PFS hazard ratios by histology (level 1), each study's latest data cut
# from the best tier available; rows not read in the trial's own report are marked, with a footnote.
uv run oligokb forest --outcome "progression-free survival" --statistic "hazard ratio" --by histology \
  --title "PFS hazard ratio by histology: randomised trials, best tier available" \
  --out $out/pfs-hr-by-histology.png
# Its sensitivity analysis: the trials' own reports only (tiers 1-2).
uv run oligokb forest --outcome "progression-free survival" --statistic "hazard ratio" --by histology --tiers own \
  --title "PFS hazard ratio by histology: the trials' own reports only (sensitivity analysis)" \
  --out $out/pfs-hr-by-histology-own-reports.png
uv run oligokb forest --outcome "overall survival" --statistic "hazard ratio" --by histology \
  --title "OS hazard ratio by histology: randomised trials, best tier available" \
  --out $out/os-hr-by-histology.png
uv run oligokb forest --outcome "progression-free survival" --statistic "hazard ratio" --by histology,oligo_state \
  --stratum-level histology=2 \
  --title "PFS hazard ratio by histology (level 2) and oligo-state" \
  --out $out/pfs-hr-by-histology-level2-oligo-state.png
uv run oligokb forest --outcome "local control" --statistic "landmark rate" --timepoint 24 --by oligo_state \
  --out $out/lc-24m-by-oligo-state.png
uv run oligokb forest --outcome "overall survival" --statistic "landmark rate" --timepoint 24 --by histology \
  --out $out/os-24m-by-histology.png
# The cumulative and funnel plots (oligokb cumulative / funnel) live beside them.
bash $out/make_review_plots.sh
