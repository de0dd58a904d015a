# Regenerate the metafor reference fixtures for oligokb's analysis engine.
#
#   Rscript tests/reference/make_fixtures.R            (from the repository root)
#
# Writes tests/reference/metafor_fixtures.json. Every number is written with sprintf("%.17g") so
# that the JSON round-trips doubles exactly. Iterative estimators (REML, ML, EB, PM) and the
# Q-profile CI use tight control (threshold/tol 1e-12) instead of metafor's stock settings, which
# are only accurate to ~1e-5 (see /work/shared/guide/numerics.md).
#
# Needs: r-base-core and r-cran-metafor (3.8-1 was used). The JSON writer below is hand-rolled so
# that the number format (%.17g, null for NA) is under our control.

suppressPackageStartupMessages(library(metafor))
invisible(Sys.setlocale("LC_COLLATE", "C"))  # sort() of group labels = factor level order

CONTROL <- list(threshold = 1e-12, tol = 1e-12, maxiter = 1000)
CONFINT_CONTROL <- list(tol = 1e-12, maxiter = 1000)
CONTROL_TXT <- "control=list(threshold=1e-12, tol=1e-12, maxiter=1000)"
METHODS <- c("FE", "DL", "REML", "PM", "ML", "HE", "SJ", "EB")
TESTS <- c("z", "knha", "adhoc")

# ---------------------------------------------------------------------------------------------
# A minimal JSON writer: numbers as %.17g, NA/NaN/Inf -> null, named lists -> objects,
# unnamed lists / vectors of length != 1 -> arrays. Scalars stay scalars (use I() to force array).
# ---------------------------------------------------------------------------------------------
json_num <- function(x) {
  ifelse(is.na(x) | !is.finite(x), "null", sprintf("%.17g", x))
}
json_str <- function(x) {
  x <- gsub("\\\\", "\\\\\\\\", x)
  x <- gsub("\"", "\\\\\"", x)
  x <- gsub("\n", "\\\\n", x)
  paste0("\"", x, "\"")
}
to_json <- function(x, indent = 0) {
  pad <- strrep(" ", indent + 2)
  end <- strrep(" ", indent)
  as_array <- inherits(x, "AsIs")
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    if (!is.null(names(x))) {
      items <- vapply(names(x), function(n) paste0(pad, json_str(n), ": ", to_json(x[[n]], indent + 2)), "")
      return(paste0("{\n", paste(items, collapse = ",\n"), "\n", end, "}"))
    }
    items <- vapply(x, function(v) paste0(pad, to_json(v, indent + 2)), "")
    return(paste0("[\n", paste(items, collapse = ",\n"), "\n", end, "]"))
  }
  if (is.logical(x)) {
    vals <- ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  } else if (is.numeric(x)) {
    vals <- json_num(as.numeric(x))
  } else {
    vals <- ifelse(is.na(x), "null", json_str(as.character(x)))
  }
  if (length(x) == 1 && !as_array) return(vals)
  paste0("[", paste(vals, collapse = ", "), "]")
}

num_or_na <- function(expr) tryCatch(expr, error = function(e) NA_real_)

# ---------------------------------------------------------------------------------------------
# Datasets. Log-HR sets are made-up but realistic for metastasis-directed RT; BCG is dat.bcg.
# ---------------------------------------------------------------------------------------------
datasets <- list()
add_gen_sei <- function(name, yi, sei, note, study = NULL, extra = list()) {
  if (is.null(study)) study <- paste0("S", seq_along(yi))
  datasets[[name]] <<- c(list(measure = "GEN", input = "yi_sei", study = study, yi = yi, sei = sei,
                              vi = sei^2, note = note), extra)
}
add_gen_vi <- function(name, yi, vi, note, study = NULL, extra = list()) {
  if (is.null(study)) study <- paste0("S", seq_along(yi))
  datasets[[name]] <<- c(list(measure = "GEN", input = "yi_vi", study = study, yi = yi, vi = vi,
                              note = note), extra)
}
add_prop <- function(name, measure, xi, ni, note) {
  es <- escalc(measure = measure, xi = xi, ni = ni)
  corrected <- if (measure == "PLO") (xi == 0 | xi == ni) else rep(FALSE, length(xi))
  datasets[[name]] <<- list(measure = measure, input = "xi_ni", study = paste0("S", seq_along(xi)),
                            xi = xi, ni = ni, yi = as.numeric(es$yi), vi = as.numeric(es$vi),
                            continuity_corrected = I(corrected), note = note)
}

add_gen_sei("hr_mdt_k6", log(c(0.47, 0.61, 0.35, 0.82, 0.55, 0.70)),
            c(0.28, 0.22, 0.31, 0.18, 0.35, 0.25),
            "made-up log HRs (MDT vs standard of care), given as yi + sei",
            extra = list(group = c("NSCLC", "NSCLC", "prostate", "prostate", "mixed", "NSCLC"),
                         year = c(2016, 2018, 2018, 2019, 2020, 2022)))
add_gen_sei("hr_prog_k8", log(c(1.8, 2.4, 1.3, 3.1, 1.6, 2.0, 1.1, 2.7)),
            c(0.21, 0.30, 0.15, 0.40, 0.26, 0.19, 0.12, 0.33),
            "made-up prognostic log HRs (polymetastatic vs oligometastatic), given as yi + sei",
            extra = list(group = c("A", "A", "B", "B", "A", "B", "B", "A"),
                         pct_nsclc = c(100, 80, 35, 60, 90, 40, 20, 75)))
add_gen_vi("hr_pfs_k5", log(c(0.35, 0.48, 0.30, 0.62, 0.44)),
           c(0.30, 0.24, 0.38, 0.27, 0.33)^2,
           "made-up PFS log HRs, given as yi + vi")
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
add_gen_vi("bcg", as.numeric(bcg$yi), as.numeric(bcg$vi),
           "dat.bcg (Colditz et al. 1994), log risk ratios via escalc(measure='RR')",
           study = as.character(bcg$author),
           extra = list(group = as.character(bcg$alloc), ablat = bcg$ablat))
add_gen_sei("k1", log(0.62), 0.30, "single study (k = 1)")
add_gen_sei("k2", log(c(0.55, 0.75)), c(0.10, 0.12), "two studies (k = 2)")
add_gen_sei("homogeneous", c(-0.30, -0.28, -0.31, -0.29, -0.30), c(0.10, 0.12, 0.09, 0.11, 0.10),
            "near-identical estimates: Q < k - 1, every estimator but SJ gives tau2 = 0")
add_gen_sei("extreme_het", c(-1.6, -0.2, 0.5, -1.1, 0.9, -0.6, -2.0, 0.1),
            c(0.08, 0.10, 0.12, 0.07, 0.15, 0.09, 0.20, 0.11),
            "extreme heterogeneity (I2 ~ 99 %)")
add_prop("prop_edge_plo", "PLO", c(0, 12, 30, 7, 18), c(25, 40, 30, 22, 35),
         "proportions with 0/n and n/n, logit (escalc adds 1/2 to both cells only there)")
add_prop("prop_edge_pft", "PFT", c(0, 12, 30, 7, 18), c(25, 40, 30, 22, 35),
         "proportions with 0/n and n/n, Freeman-Tukey double arcsine (no correction)")
add_prop("prop_allzero_plo", "PLO", c(0, 0, 0, 0), c(20, 35, 15, 28),
         "all studies with zero events, logit")
add_prop("prop_allzero_pft", "PFT", c(0, 0, 0, 0), c(20, 35, 15, 28),
         "all studies with zero events, Freeman-Tukey")
add_prop("prop_rates_plo", "PLO", c(26, 40, 15, 33, 21, 9), c(66, 99, 45, 70, 52, 30),
         "landmark-like event proportions, logit")
add_prop("prop_rates_pft", "PFT", c(26, 40, 15, 33, 21, 9), c(66, 99, 45, 70, 52, 30),
         "landmark-like event proportions, Freeman-Tukey")

# ---------------------------------------------------------------------------------------------
# One fit -> a record of every quantity oligokb reports.
# ---------------------------------------------------------------------------------------------
fit_dataset <- function(d, method, test, subset = NULL) {
  yi <- d$yi; vi <- d$vi; ni <- d$ni
  if (!is.null(subset)) { yi <- yi[subset]; vi <- vi[subset]; if (!is.null(ni)) ni <- ni[subset] }
  if (d$input == "yi_sei") {
    sei <- sqrt(vi)
    res <- withCallingHandlers(rma(yi, sei = sei, method = method, test = test, control = CONTROL),
                               warning = function(w) invokeRestart("muffleWarning"))
  } else {
    res <- withCallingHandlers(rma(yi, vi, method = method, test = test, control = CONTROL),
                               warning = function(w) invokeRestart("muffleWarning"))
  }
  res
}

call_text <- function(d, method, test) {
  data_part <- if (d$input == "yi_sei") "rma(yi, sei=sei" else "rma(yi, vi"
  pre <- if (d$measure %in% c("PLO", "PFT")) sprintf("escalc(measure=\"%s\", xi=xi, ni=ni) |> ", d$measure) else ""
  sprintf("%s%s, method=\"%s\", test=\"%s\", %s)", pre, data_part, method, test, CONTROL_TXT)
}

record_fit <- function(res, d, subset = NULL) {
  k <- res$k
  pr <- predict(res)
  tau2_ci <- c(NA_real_, NA_real_)
  if (k > 1 && !(res$method %in% c("FE", "EE", "CE"))) {
    ci <- confint(res, control = CONFINT_CONTROL)
    tau2_ci <- c(ci$random["tau^2", "ci.lb"], ci$random["tau^2", "ci.ub"])
  }
  is_fe <- res$method %in% c("FE", "EE", "CE")
  out <- list(
    k = k,
    test_used = res$test,
    estimate = as.numeric(res$beta[1]), se = res$se[1],
    ci_low = res$ci.lb[1], ci_high = res$ci.ub[1],
    stat = res$zval[1], p_value = res$pval[1],
    df = if (is.null(res$ddf) || is.na(res$ddf[1])) NA_real_ else res$ddf[1],
    pi_low = if (is_fe) NA_real_ else pr$pi.lb, pi_high = if (is_fe) NA_real_ else pr$pi.ub,
    tau2 = res$tau2, tau2_ci_low = tau2_ci[1], tau2_ci_high = tau2_ci[2],
    i2 = res$I2, h2 = res$H2, q = res$QE, q_df = k - res$p, q_p = res$QEp,
    weights_pct = I(as.numeric(weights(res)))
  )
  if (d$measure == "PLO") {
    bt <- predict(res, transf = transf.ilogit)
    out$backtransformed <- list(estimate = bt$pred, ci_low = bt$ci.lb, ci_high = bt$ci.ub,
                                pi_low = if (is_fe) NA_real_ else bt$pi.lb,
                                pi_high = if (is_fe) NA_real_ else bt$pi.ub,
                                transform = "transf.ilogit")
  }
  if (d$measure == "PFT") {
    ni <- if (is.null(subset)) d$ni else d$ni[subset]
    bt <- predict(res, transf = transf.ipft.hm, targs = list(ni = ni))
    out$backtransformed <- list(estimate = bt$pred, ci_low = bt$ci.lb, ci_high = bt$ci.ub,
                                pi_low = if (is_fe) NA_real_ else bt$pi.lb,
                                pi_high = if (is_fe) NA_real_ else bt$pi.ub,
                                transform = "transf.ipft.hm(targs=list(ni=ni))",
                                harmonic_mean_n = 1 / mean(1 / ni))
  }
  out
}

fits <- list()
for (dn in names(datasets)) {
  d <- datasets[[dn]]
  for (m in METHODS) for (t in TESTS) {
    res <- fit_dataset(d, m, t)
    rec <- c(list(dataset = dn, method = m, test = t, call = call_text(d, m, t)), record_fit(res, d))
    fits[[length(fits) + 1]] <- rec
  }
}

# ---------------------------------------------------------------------------------------------
# Leave-one-out (leave1out.rma.uni refits with the same method, test and control).
# ---------------------------------------------------------------------------------------------
loo <- list()
for (spec in list(c("bcg", "REML", "z"), c("hr_prog_k8", "DL", "knha"), c("hr_mdt_k6", "PM", "z"))) {
  d <- datasets[[spec[1]]]
  res <- fit_dataset(d, spec[2], spec[3])
  l1 <- as.data.frame(leave1out(res))
  l1_stat <- if (is.null(l1$zval)) l1$tval else l1$zval
  loo[[length(loo) + 1]] <- list(
    dataset = spec[1], method = spec[2], test = spec[3],
    call = paste0("leave1out(", call_text(d, spec[2], spec[3]), ")"),
    estimate = I(l1$estimate), se = I(l1$se), stat = I(l1_stat), p_value = I(l1$pval),
    ci_low = I(l1$ci.lb), ci_high = I(l1$ci.ub), q = I(l1$Q), q_p = I(l1$Qp),
    tau2 = I(l1$tau2), i2 = I(l1$I2), h2 = I(l1$H2))
}

# ---------------------------------------------------------------------------------------------
# Egger's regression test: regtest() default (model="rma", predictor="sei", the model's own
# method and test) and the classical weighted linear regression (model="lm").
# ---------------------------------------------------------------------------------------------
egger <- list()
for (spec in list(c("bcg", "REML", "z"), c("hr_prog_k8", "REML", "z"), c("hr_mdt_k6", "DL", "knha"),
                  c("bcg", "FE", "z"), c("extreme_het", "PM", "z"))) {
  d <- datasets[[spec[1]]]
  res <- fit_dataset(d, spec[2], spec[3])
  for (model in c("rma", "lm")) {
    rt <- regtest(res, model = model, predictor = "sei")
    egger[[length(egger) + 1]] <- list(
      dataset = spec[1], method = spec[2], test = spec[3], model = model,
      call = sprintf("regtest(%s, model=\"%s\", predictor=\"sei\")", call_text(d, spec[2], spec[3]), model),
      stat = rt$zval, p_value = rt$pval, df = if (is.null(rt$ddf) || is.na(rt$ddf)) NA_real_ else rt$ddf,
      limit_estimate = rt$est, limit_ci_low = rt$ci.lb, limit_ci_high = rt$ci.ub,
      slope = as.numeric(coef(rt$fit)[2]))
  }
}

# ---------------------------------------------------------------------------------------------
# Subgroups: separate fits per group, Q-between from an FE fit on the subgroup estimates
# (metafor's "separate tau2" approach), and the moderator test with a common tau2.
# ---------------------------------------------------------------------------------------------
subgroups <- list()
for (spec in list(c("bcg", "REML", "z"), c("bcg", "DL", "knha"), c("hr_mdt_k6", "REML", "z"),
                  c("hr_prog_k8", "PM", "z"), c("hr_prog_k8", "FE", "z"))) {
  d <- datasets[[spec[1]]]
  groups <- sort(unique(d$group))   # R's factor level order (alphabetical, C locale below)
  per <- list(); est <- c(); se <- c()
  for (g in groups) {
    idx <- which(d$group == g)
    res_g <- fit_dataset(d, spec[2], spec[3], subset = idx)
    rec <- c(list(group = g, rows = I(idx - 1L)), record_fit(res_g, d, subset = idx))
    per[[length(per) + 1]] <- rec
    est <- c(est, as.numeric(res_g$beta[1])); se <- c(se, res_g$se[1])
  }
  between <- rma(est, sei = se, method = "FE", control = CONTROL)
  grp <- factor(d$group, levels = groups)
  yi <- d$yi; vi <- d$vi
  mod <- withCallingHandlers(rma(yi, vi, mods = ~grp, method = spec[2], test = spec[3], control = CONTROL),
                             warning = function(w) invokeRestart("muffleWarning"))
  overall <- record_fit(fit_dataset(d, spec[2], spec[3]), d)
  subgroups[[length(subgroups) + 1]] <- list(
    dataset = spec[1], method = spec[2], test = spec[3],
    call = sprintf("per group: %s; between: rma(est, sei=se, method=\"FE\"); moderator: rma(yi, vi, mods=~group, method=\"%s\", test=\"%s\", %s)",
                   call_text(d, spec[2], spec[3]), spec[2], spec[3], CONTROL_TXT),
    groups = I(groups), overall = overall, subgroups = per,
    q_between = list(q = between$QE, df = length(groups) - 1, p = between$QEp),
    moderator_test = list(qm = mod$QM, qm_df = I(mod$QMdf), qm_p = mod$QMp, tau2 = mod$tau2,
                          q = mod$QE, q_p = mod$QEp, i2 = mod$I2, h2 = mod$H2))
}

# ---------------------------------------------------------------------------------------------
# Meta-regression on one continuous moderator.
# ---------------------------------------------------------------------------------------------
metareg <- list()
for (spec in list(c("bcg", "ablat", "REML", "z"), c("bcg", "ablat", "DL", "knha"),
                  c("bcg", "ablat", "ML", "z"), c("hr_prog_k8", "pct_nsclc", "REML", "z"),
                  c("hr_prog_k8", "pct_nsclc", "PM", "adhoc"), c("hr_mdt_k6", "year", "FE", "z"))) {
  d <- datasets[[spec[1]]]
  x <- d[[spec[2]]]; yi <- d$yi; vi <- d$vi
  res <- withCallingHandlers(rma(yi, vi, mods = ~x, method = spec[3], test = spec[4], control = CONTROL),
                             warning = function(w) invokeRestart("muffleWarning"))
  metareg[[length(metareg) + 1]] <- list(
    dataset = spec[1], moderator = spec[2], method = spec[3], test = spec[4],
    call = sprintf("rma(yi, vi, mods=~%s, method=\"%s\", test=\"%s\", %s)", spec[2], spec[3], spec[4], CONTROL_TXT),
    coef = I(as.numeric(res$beta)), se = I(res$se), stat = I(res$zval), p_value = I(res$pval),
    ci_low = I(res$ci.lb), ci_high = I(res$ci.ub),
    qm = res$QM, qm_df = I(res$QMdf), qm_p = res$QMp, tau2 = res$tau2,
    q = res$QE, q_df = res$k - res$p, q_p = res$QEp, i2 = res$I2, h2 = res$H2)
}

# ---------------------------------------------------------------------------------------------
datasets_out <- lapply(datasets, function(d) {
  d$yi <- I(d$yi); d$vi <- I(d$vi); d$study <- I(d$study)
  if (!is.null(d$sei)) d$sei <- I(d$sei)
  if (!is.null(d$xi)) { d$xi <- I(d$xi); d$ni <- I(d$ni) }
  if (!is.null(d$group)) d$group <- I(d$group)
  d
})

out <- list(
  meta = list(
    generator = "tests/reference/make_fixtures.R",
    r_version = R.version.string,
    metafor_version = as.character(packageVersion("metafor")),
    control = CONTROL_TXT,
    confint_control = "confint(res, control=list(tol=1e-12, maxiter=1000))",
    methods = I(METHODS), tests = I(TESTS),
    notes = "k = 1: metafor switches test to 'z' (test_used) and confint() stops, so tau2 CI is null. FE: no PI, no tau2 CI."
  ),
  datasets = datasets_out,
  fits = fits,
  leave1out = loo,
  egger = egger,
  subgroups = subgroups,
  metareg = metareg
)

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
outdir <- if (length(script)) dirname(normalizePath(script)) else "tests/reference"
writeLines(to_json(out), file.path(outdir, "metafor_fixtures.json"))
cat("wrote", file.path(outdir, "metafor_fixtures.json"), "with", length(fits), "fits\n")
