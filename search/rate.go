package search

import (
	"context"
	"errors"

	"github.com/simdmlp/simdmlp/harness"
)

// MeasureRate measures the FLOP/s one trial with the given threads reaches on this
// machine now: one epoch of the report's final configuration on (at most) the first
// 6,000 training images. A wall-time budget is converted into FLOPs at this rate times
// the trials run at once. Narrow networks reach a lower rate than this 784-600-200 one,
// so a search of them runs past its wall time; the FLOPs stay exact.
func MeasureRate(ctx context.Context, d *harness.Dataset, threads int) (float64, error) {
	sub, err := d.Subset(min(d.Train.N, 6000), min(d.Test.N, 1))
	if err != nil {
		return 0, err
	}
	cfg, err := Baseline()
	if err != nil {
		return 0, err
	}
	cfg.Epochs, cfg.Threads, cfg.Seed = 1, threads, 1
	res, err := TrainWithoutTest(ctx, cfg, sub, nil)
	if err != nil {
		return 0, err
	}
	if !(res.WallSeconds > 0) {
		return 0, errors.New("the timing epoch took no measurable time")
	}
	return DataShape(sub).EpochFLOPs(cfg) / res.WallSeconds, nil
}
