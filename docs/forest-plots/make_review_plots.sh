#!/usr/bin/env bash
# Regenerate the cumulative and funnel plots of the bundled knowledge base (run from the repository root,
# after `oligokb build`): the randomised PFS hazard ratios that `oligokb pool kb` pools.
set -euo pipefail
out=docs/forest-plots
uv run oligokb cumulative --outcome "progression-free survival" --statistic "hazard ratio" \
  --title "PFS hazard ratio, randomised trials: cumulative meta-analysis by publication year" \
  --plot $out/pfs-hr-cumulative.png > /dev/null
uv run oligokb funnel --outcome "progression-free survival" --statistic "hazard ratio" \
  --title "PFS hazard ratio, randomised trials: funnel plot" \
  --plot $out/pfs-hr-funnel.png > /dev/null
