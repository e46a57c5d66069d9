package search

import (
	"context"

	"github.com/simdmlp/simdmlp/harness"
	"github.com/simdmlp/simdmlp/mlp"
)

// Planner adapts the search to harness.Runner, which runs the missing trials of each plan
// in parallel and appends their records to the results file. others returns records held
// elsewhere (other shards' files; nil for none), merged with the runner's own before
// replaying. With oneRound the plan claims to be complete once the current round is
// laid out, so that Runner returns after running this process's share of it (a shard
// cannot plan the next round before every shard has finished this one); without it the
// runner keeps planning until the search is done.
func (s *Search) Planner(others func() map[string]harness.Record, oneRound bool) harness.Planner {
	return func(done map[string]harness.Record) (*harness.Plan, error) {
		all := done
		if others != nil {
			if extra := others(); len(extra) > 0 {
				all = make(map[string]harness.Record, len(done)+len(extra))
				for k, v := range extra {
					all[k] = v
				}
				for k, v := range done {
					all[k] = v
				}
			}
		}
		st, err := s.Replay(all)
		if err != nil {
			return nil, err
		}
		p := &harness.Plan{Data: s.Set.Data, Trials: st.Trials, Complete: st.Done || oneRound}
		if !p.Complete {
			p.Waiting = st.Waiting
		}
		return p, nil
	}
}

// TrainWithoutTest is the search's harness.TrainFunc: it trains on the training data
// without giving the trainer the test set, so no search trial can look at it (its
// record has n_test 0 and no test metrics).
func TrainWithoutTest(ctx context.Context, cfg mlp.Config, data *harness.Dataset, onEpoch func(mlp.EpochMetrics)) (*mlp.Result, error) {
	cfg.TestEachEpoch = false
	t, err := mlp.NewTrainer(cfg, data.Train, nil)
	if err != nil {
		return nil, err
	}
	return t.Run(ctx, onEpoch)
}
