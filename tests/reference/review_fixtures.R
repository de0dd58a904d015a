# metafor's numbers for the review analyses (analysis/review.py): leave-one-out, cumulative
# meta-analysis by year, and Egger's regression test, on a fixed dataset.
#
#   Rscript tests/reference/review_fixtures.R            (from the repository root)
#
# Input: tests/reference/review_dataset.csv (study, year, yi = log HR, vi): the 13 randomised PFS
# hazard ratios that `oligokb pool kb --outcome "progression-free survival" --statistic "hazard ratio"`
# pooled on 2026-12-06, frozen here so that the fixture does not move when the sheets do.
# Output: tests/reference/review_leave1out.csv, review_cumul.csv, review_regtest.csv, numbers as %.17g.
# Tight control (threshold/tol 1e-12) as in make_fixtures.R (see /work/shared/guide/numerics.md).
# Needs r-base-core and r-cran-metafor (3.8-1 was used).

suppressPackageStartupMessages(library(metafor))
invisible(Sys.setlocale("LC_COLLATE", "C"))  # order() of study ids = Python's string order

CONTROL <- list(threshold = 1e-12, tol = 1e-12, maxiter = 1000)
SPECS <- list(c("REML", "z"), c("DL", "knha"))
dir <- "tests/reference"
d <- read.csv(file.path(dir, "review_dataset.csv"), colClasses = c("character", "numeric", "numeric", "numeric"))

fit <- function(d, method, test) {
  withCallingHandlers(rma(yi, vi, data = d, method = method, test = test, control = CONTROL),
                      warning = function(w) invokeRestart("muffleWarning"))
}
num <- function(x) ifelse(is.na(x) | !is.finite(x), "NA", sprintf("%.17g", x))
write_fixture <- function(frame, name) {
  out <- frame
  for (col in names(out)) if (is.numeric(out[[col]])) out[[col]] <- num(out[[col]])
  write.csv(out, file.path(dir, name), row.names = FALSE, quote = TRUE)
}

loo <- list(); cum <- list(); egger <- list()
for (spec in SPECS) {
  method <- spec[1]; test <- spec[2]
  res <- fit(d, method, test)
  l1 <- as.data.frame(leave1out(res))
  loo[[length(loo) + 1]] <- data.frame(method = method, test = test, omitted = d$study,
    estimate = l1$estimate, ci_low = l1$ci.lb, ci_high = l1$ci.ub, p_value = l1$pval,
    tau2 = l1$tau2, i2 = l1$I2)
  # cumul() adds studies in the data's order: sort by year, then study id, and refit.
  sorted <- d[order(d$year, d$study), ]
  cu <- as.data.frame(cumul(fit(sorted, method, test)))
  cum[[length(cum) + 1]] <- data.frame(method = method, test = test, study = sorted$study,
    year = sorted$year, estimate = cu$estimate, ci_low = cu$ci.lb, ci_high = cu$ci.ub, p_value = cu$pval,
    tau2 = cu$tau2, i2 = cu$I2)
  for (model in c("rma", "lm")) {
    rt <- regtest(res, model = model, predictor = "sei")
    egger[[length(egger) + 1]] <- data.frame(method = method, test = test, model = model,
      stat = rt$zval, p_value = rt$pval, df = if (is.null(rt$ddf) || is.na(rt$ddf)) NA_real_ else rt$ddf,
      slope = as.numeric(coef(rt$fit)[2]), limit_estimate = rt$est, limit_ci_low = rt$ci.lb,
      limit_ci_high = rt$ci.ub)
  }
}
write_fixture(do.call(rbind, loo), "review_leave1out.csv")
write_fixture(do.call(rbind, cum), "review_cumul.csv")
write_fixture(do.call(rbind, egger), "review_regtest.csv")
cat(sprintf("R %s, metafor %s\n", getRversion(), packageVersion("metafor")))
