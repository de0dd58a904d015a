# reproduce.R: re-run every pool of `oligokb pool all` with metafor's rma().
#
# Written by `oligokb export --format metafor --out DIR` beside DIR/pool_inputs.csv; run it with
#
#   Rscript DIR/reproduce.R
#
# It reads pool_inputs.csv (one row per study that entered a pool: analysis, stratum, study, yi,
# vi, sei, scale, method, test, level), fits one rma() per analysis and stratum with the method,
# test and level of its rows, and writes DIR/pooled_R.csv with the columns
#
#   analysis, stratum, k, estimate, ci_low, ci_high, tau2, i2, note
#
# on the scale `oligokb pool` reports: hazard ratios (exp of the pooled log HR) and rates in
# percent (100 x the inverse logit). tau2 and i2 stay on the model scale (i2 in percent).
# Nothing here is specific to one knowledge base: the same script runs on any pool_inputs.csv.
#
# Needs R with the metafor package (install.packages("metafor")).

suppressPackageStartupMessages(library(metafor))

# The directory of this script (Rscript passes it as --file=...), else the working directory.
here <- local({
  file_arg <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(file_arg) == 1) dirname(normalizePath(file_arg)) else getwd()
})
inputs <- read.csv(file.path(here, "pool_inputs.csv"), stringsAsFactors = FALSE,
                   check.names = FALSE, na.strings = "")

# metafor's stock convergence (REML threshold 1e-5) is only accurate to about 1e-5; oligokb iterates
# to 1e-12, so the two agree to ~1e-8 with this control (closed-form methods such as DL ignore it).
tight <- list(threshold = 1e-12, tol = 1e-12, maxiter = 1000)

# The model scale back to the scale `oligokb pool` prints.
display <- function(x, scale) if (scale == "log") exp(x) else 100 * plogis(x)

pool_one <- function(rows) {
  first <- rows[1, ]
  k <- nrow(rows)
  notes <- character(0)
  fit <- withCallingHandlers(
    tryCatch(
      rma(yi = rows$yi, vi = rows$vi, method = first$method, test = first$test,
          level = first$level, control = tight),
      # A fit metafor refuses (e.g. REML that does not converge) is reported, not fatal.
      error = function(e) e
    ),
    warning = function(w) {
      notes <<- c(notes, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  out <- data.frame(analysis = first$analysis, stratum = first$stratum, k = k,
                    estimate = NA_real_, ci_low = NA_real_, ci_high = NA_real_,
                    tau2 = NA_real_, i2 = NA_real_, note = "", stringsAsFactors = FALSE)
  if (inherits(fit, "error")) {
    out$note <- paste("metafor refused this stratum:", conditionMessage(fit))
    return(out)
  }
  out$estimate <- display(fit$b[1], first$scale)
  out$ci_low <- display(fit$ci.lb, first$scale)
  out$ci_high <- display(fit$ci.ub, first$scale)
  if (k >= 2) {
    out$tau2 <- fit$tau2
    out$i2 <- fit$I2
  } else {
    # As `oligokb pool`: one study is its own estimate (z CI), with no heterogeneity to report.
    notes <- c("k = 1: the study's own estimate, not pooled", notes)
  }
  out$note <- paste(unique(notes), collapse = "; ")
  out
}

# One group per analysis and stratum, in the order of pool_inputs.csv.
key <- paste(inputs$analysis, inputs$stratum, sep = "\r")
groups <- split(inputs, factor(key, levels = unique(key)))
pooled <- do.call(rbind, lapply(groups, pool_one))

# Every number with 17 significant digits, so that a comparison is not limited by the CSV.
for (col in c("estimate", "ci_low", "ci_high", "tau2", "i2")) {
  pooled[[col]] <- ifelse(is.na(pooled[[col]]), "", sprintf("%.17g", pooled[[col]]))
}
write.csv(pooled, file.path(here, "pooled_R.csv"), row.names = FALSE, na = "",
          quote = which(names(pooled) %in% c("analysis", "stratum", "note")))
refused <- sum(grepl("^metafor refused", pooled$note))
cat(sprintf("wrote %s: %d strata (%d refused by metafor; see the note column)\n",
            file.path(here, "pooled_R.csv"), nrow(pooled), refused))
