#!/bin/sh
# Regenerate tests/reference/pooled_R_bundled.csv: metafor's rma() on every pool of the bundled knowledge
# base (data/studies.ttl), through the same bundle a user gets from `oligokb export --format metafor`.
#
#   sh tests/reference/make_pooled_R_bundled.sh        (from the repository root)
#
# Needs R with metafor (3.8-1 was used). Run it again whenever data/studies.ttl changes: the fixture pins
# `oligokb pool all` on the bundled KB (tests/test_export_metafor.py).
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
uv run oligokb export --format metafor --out "$dir"
Rscript "$dir/reproduce.R"
{
  echo "# metafor $(Rscript -e 'cat(as.character(packageVersion("metafor")))') on $(Rscript -e 'cat(R.version.string)'); rma(method=\"REML\", test=\"z\", level=95, control=list(threshold=1e-12, tol=1e-12, maxiter=1000)); kb sha256 $(sha256sum data/studies.ttl | cut -c1-64)"
  cat "$dir/pooled_R.csv"
} > tests/reference/pooled_R_bundled.csv
echo "wrote tests/reference/pooled_R_bundled.csv"
