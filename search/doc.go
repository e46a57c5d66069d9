// Package search looks for better configurations than the report's staged grid, the way
// Keras Tuner's RandomSearch and Hyperband or Optuna's successive-halving pruner do, but
// reproducibly: the search space is data (Space, loadable from JSON; the report's grid is
// one instance, ReportGrid), the budget is counted in training FLOPs computed from each
// architecture (so the same seed and budget give the same search on any machine), and
// every decision (which configurations to sample, which to promote, when the budget is
// spent) is a pure function of the settings and the durable trial records of package
// harness. A search killed at any point and restarted therefore replays the records it
// has and continues with exactly the trials an uninterrupted run would have run.
//
// Selection uses validation metrics only, under the clean split protocol: the search's
// trials never see the test set (they are trained without it: their records hold
// n_test 0). The test set is used once, at the end, for the final pick and for the
// report's own pick trained by us, each over a few seeds.
//
// Nothing here prints or reads flags: cmd/simdmlp's search subcommand does.
package search
