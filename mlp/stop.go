package mlp

import "math"

// stopper applies a (normalized) Stop rule one epoch at a time. The same code decides
// during training and in ApplyStop, which replays the rule over a logged curve.
type stopper struct {
	rule      Stop
	prevVal   float64 // rise: the previous epoch's val_loss
	best      float64 // patience: the best val_loss so far
	bestEpoch int
	wait      int // patience: epochs since the last improvement
}

func newStopper(rule Stop) stopper {
	return stopper{rule: rule, prevVal: math.NaN(), best: math.Inf(1)}
}

// observe takes epoch e's (1-based) val_loss and running training loss. It reports
// whether training stops after this epoch and why, and whether val_loss improved on
// the best so far by more than MinDelta (patience: the weights RestoreBest keeps).
// Comparisons with NaN are false, as in Keras: a NaN val_loss neither improves nor
// rises.
func (s *stopper) observe(epoch int, valLoss, trainLoss float64) (stop bool, reason string, improved bool) {
	switch s.rule.Kind {
	case StopRise:
		// The first epoch has no previous one: prevVal is NaN and the test is false.
		if valLoss-s.prevVal > s.rule.MinDelta {
			stop, reason = true, ReasonRise
		}
		s.prevVal = valLoss
	case StopPatience:
		// Keras EarlyStopping(monitor="val_loss", mode="min"): an improvement is
		// current < best - min_delta; wait counts epochs since the last one.
		s.wait++
		if valLoss+s.rule.MinDelta < s.best {
			s.best, s.bestEpoch, s.wait = valLoss, epoch, 0
			improved = true
		} else if s.wait >= s.rule.Patience && epoch > 1 {
			// Keras's test, so patience 0 and 1 both stop at the first epoch that does
			// not improve (a known quirk of EarlyStopping, kept for fidelity).
			stop, reason = true, ReasonPatience
		}
	}
	if !stop && s.rule.LossFloor > 0 && trainLoss < s.rule.LossFloor {
		stop, reason = true, ReasonLossFloor
	}
	return stop, reason, improved
}

// StopDecision is what a stopping rule decided over a sequence of epochs.
type StopDecision struct {
	// Ran is the number of epochs trained (the epoch after which training stopped).
	Ran int
	// Kept is the epoch whose weights are kept: Ran, except under patience with
	// RestoreBest when the rule fired, where it is the best epoch.
	Kept   int
	Reason string // ReasonEpochs, ReasonRise, ReasonPatience or ReasonLossFloor
}

// ApplyStop replays the stopping rule over per-epoch val_loss values (valLoss[i] is
// epoch i+1's) and, for Stop.LossFloor, the running training losses (loss may be nil
// when no floor is set). At most maxEpochs epochs are considered; a sequence that ends
// earlier without the rule firing ends with ReasonEpochs at its last epoch. rule is
// used as given (call Config.Normalize first for MinDelta's default).
func ApplyStop(rule Stop, maxEpochs int, valLoss, loss []float64) StopDecision {
	s := newStopper(rule)
	n := min(len(valLoss), maxEpochs)
	for i := 0; i < n; i++ {
		tl := math.Inf(1)
		if loss != nil {
			tl = loss[i]
		}
		stop, reason, _ := s.observe(i+1, valLoss[i], tl)
		if stop {
			return StopDecision{Ran: i + 1, Kept: s.kept(i+1, reason), Reason: reason}
		}
	}
	return StopDecision{Ran: n, Kept: n, Reason: ReasonEpochs}
}

// kept returns the epoch whose weights are kept when training stops after epoch ran.
func (s *stopper) kept(ran int, reason string) int {
	if reason == ReasonPatience && s.rule.RestoreBest && s.bestEpoch > 0 {
		return s.bestEpoch
	}
	return ran
}
