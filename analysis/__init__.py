"""analysis: the numeric core of oligokb (effect sizes, tau2, pooling), pinned to metafor.

See docs/analysis.md. Main entry points: `analysis.meta.meta_analysis`,
`analysis.meta.meta_analysis_proportions`, `analysis.subgroups.subgroup_analysis`,
`analysis.regression.meta_regression`, `analysis.sensitivity.leave_one_out`,
`analysis.bias.egger_test`, `analysis.batch.reml_batch`, `analysis.effects`.
"""
