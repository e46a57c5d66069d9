package search

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/simdmlp/simdmlp/harness"
	"github.com/simdmlp/simdmlp/mlp"
)

// Entry is one configuration in one round of a search.
type Entry struct {
	Cand   int        // the candidate's index in the seed's stream (Space.Sample)
	Config mlp.Config // at this round's epochs, with the candidate's training seed
	Key    string     // the trial whose record stands for this entry
	// Carried: an earlier rung's record stands, because its early-stopping rule fired
	// before that rung's epochs ran out, and the trainer is deterministic: training the
	// same configuration with more epochs would stop at the same epoch with the same
	// weights. Nothing is trained for a carried entry and it costs nothing.
	Carried bool
	Trial   int             // index of its trial in State.Trials; -1 when carried
	Record  *harness.Record // nil while its trial is missing
	FLOPs   float64         // what its trial cost (0 when carried)
}

// ValLoss is the loss the ranking uses: NaN and missing records rank last.
func (e *Entry) ValLoss() float64 {
	if e.Record == nil {
		return math.Inf(1)
	}
	v := float64(e.Record.ValLoss)
	if math.IsNaN(v) {
		return math.Inf(1)
	}
	return v
}

// ValAcc is the entry's validation accuracy at its kept epoch.
func (e *Entry) ValAcc() float64 {
	if e.Record == nil {
		return math.NaN()
	}
	return float64(e.Record.ValAcc)
}

// Round is a set of trials the search runs before it decides anything else: one rung of
// one halving bracket, or one wave of random search.
type Round struct {
	Bracket int // halving: the bracket; random: the wave
	Rung    int // halving: the rung (0: the first); random: 0
	Epochs  int // halving: the rung's most epochs; random: 0 (each its own)
	// Entries: in sampling order for a first rung or a wave, else in the order of the
	// previous rung's ranking; Ranked sorts them best first once the round is complete.
	Entries []Entry
	Ranked  []int
	// Dropped counts the candidates halving would have promoted but the budget could not
	// pay for; Planned is the FLOPs the round was allowed (its trials at full epochs).
	Dropped  int
	Planned  float64
	FLOPs    float64 // spent by its finished trials
	Complete bool
}

// Name is how logs and the report call the round.
func (r *Round) Name(s Strategy) string {
	if s == Random {
		return fmt.Sprintf("wave %d", r.Bracket)
	}
	return fmt.Sprintf("bracket %d rung %d (%d epochs)", r.Bracket, r.Rung, r.Epochs)
}

// State is a search replayed from its records: every round so far, the trials they
// hold, what was spent and, once done, the pick.
type State struct {
	Rounds []*Round
	Trials []harness.Trial // every trial planned so far; Trials[i].Index == i
	Spent  float64         // FLOPs of every finished trial
	// Done: no further round fits in the budget and every trial is recorded.
	Done    bool
	Waiting string // the round whose trials are missing, when not Done
	Ended   string // why the search stopped planning
	// Finalists are the entries the pick is chosen from, best first; Pick is Finalists[0].
	Finalists []*Entry
	Pick      *Entry
}

// maxRound bounds a round's candidates (a vast budget over tiny networks would otherwise
// plan millions of trials at once): the rest of the budget goes to later rounds.
const maxRound = 100000

// Search replays and plans one search.
type Search struct {
	Set   Settings
	cands []candidate
}

type candidate struct {
	cfg      mlp.Config
	perEpoch float64 // FLOPs of one epoch
}

// New checks the settings and returns the search.
func New(set Settings) (*Search, error) {
	if err := set.Validate(); err != nil {
		return nil, err
	}
	return &Search{Set: set}, nil
}

// candidate returns candidate i of the stream, sampled once.
func (s *Search) candidate(i int) candidate {
	for len(s.cands) <= i {
		c := s.Set.Space.Sample(s.Set.Seed, len(s.cands))
		s.cands = append(s.cands, candidate{cfg: c, perEpoch: s.Set.Shape.EpochFLOPs(c)})
	}
	return s.cands[i]
}

// Replay rebuilds the search from the records so far (by trial key) and plans up to the
// first round that is not complete. It is a pure function of the settings and the
// records, so a restarted search continues exactly as the uninterrupted one would.
func (s *Search) Replay(done map[string]harness.Record) (*State, error) {
	st := &State{}
	var err error
	if s.Set.Strategy == Random {
		err = s.replayRandom(st, done)
	} else {
		err = s.replayHalving(st, done)
	}
	if err != nil {
		return nil, err
	}
	if st.Done {
		s.choose(st)
	}
	return st, nil
}

// entry makes a new entry for candidate i at the given epochs (0: its own) and plans its
// trial.
func (s *Search) entry(st *State, i, epochs int, label string) (Entry, error) {
	c := s.candidate(i)
	cfg := c.cfg
	cfg.Hidden = slices.Clone(cfg.Hidden)
	if epochs > 0 {
		cfg.Epochs = epochs
	}
	key, err := harness.TrialKey(cfg, s.Set.Data)
	if err != nil {
		return Entry{}, fmt.Errorf("candidate %d: %w", i, err)
	}
	e := Entry{Cand: i, Config: cfg, Key: key, Trial: len(st.Trials)}
	st.Trials = append(st.Trials, harness.Trial{Index: len(st.Trials), Key: key, Config: cfg, Rows: []string{fmt.Sprintf("%s #%d", label, i)}})
	return e, nil
}

// finish fills a round's records from done; it reports whether every one is there.
func (s *Search) finish(st *State, r *Round, done map[string]harness.Record) bool {
	complete := true
	for i := range r.Entries {
		e := &r.Entries[i]
		if e.Carried {
			continue
		}
		rec, ok := done[e.Key]
		if !ok {
			complete = false
			continue
		}
		e.Record = &rec
		e.FLOPs = RecordFLOPs(rec, s.Set.Shape.Features, s.Set.Shape.Classes)
		r.FLOPs += e.FLOPs
	}
	st.Spent += r.FLOPs
	r.Complete = complete
	if complete {
		r.Ranked = rank(r.Entries)
	}
	return complete
}

// rank orders entries best first: lowest validation loss (NaN last), then highest
// validation accuracy, then the earlier candidate.
func rank(es []Entry) []int {
	idx := make([]int, len(es))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ea, eb := &es[a], &es[b]
		if c := cmp.Compare(ea.ValLoss(), eb.ValLoss()); c != 0 {
			return c
		}
		va, vb := ea.ValAcc(), eb.ValAcc()
		if math.IsNaN(va) {
			va = -1
		}
		if math.IsNaN(vb) {
			vb = -1
		}
		if c := cmp.Compare(vb, va); c != 0 {
			return c
		}
		return cmp.Compare(ea.Cand, eb.Cand)
	})
	return idx
}

func (s *Search) replayRandom(st *State, done map[string]harness.Record) error {
	next := 0
	for w := 0; ; w++ {
		left := s.Set.BudgetFLOPs - st.Spent
		r := &Round{Bracket: w}
		for len(r.Entries) < maxRound {
			c := s.candidate(next)
			cost := c.perEpoch * float64(c.cfg.Epochs)
			if r.Planned+cost > left {
				break
			}
			e, err := s.entry(st, next, 0, fmt.Sprintf("w%d", w))
			if err != nil {
				return err
			}
			r.Entries = append(r.Entries, e)
			r.Planned += cost
			next++
		}
		if len(r.Entries) == 0 {
			if w == 0 {
				c := s.candidate(0)
				return fmt.Errorf("budget %.4g FLOPs cannot pay for even the first configuration (%.4g FLOPs at %d epochs)", s.Set.BudgetFLOPs, c.perEpoch*float64(c.cfg.Epochs), c.cfg.Epochs)
			}
			st.Done = true
			c := s.candidate(next)
			st.Ended = fmt.Sprintf("the next configuration (%.4g FLOPs at %d epochs) does not fit in the %.4g FLOPs left", c.perEpoch*float64(c.cfg.Epochs), c.cfg.Epochs, left)
			return nil
		}
		st.Rounds = append(st.Rounds, r)
		if !s.finish(st, r, done) {
			st.Waiting = r.Name(Random)
			return nil
		}
	}
}

// survivors returns how many of n entries the next rung keeps.
func (s *Search) survivors(n int) int { return max(1, n/s.Set.Eta) }

// planCost is what a bracket of n fresh candidates from first would cost at full epochs
// if each rung kept the first of its candidates in sampling order (a random subset, as
// far as cost goes).
func (s *Search) planCost(first, n int, rungs []int) float64 {
	total, m := 0.0, n
	for k, r := range rungs {
		if k > 0 {
			m = s.survivors(m)
		}
		for j := range m {
			total += s.candidate(first+j).perEpoch * float64(r)
		}
	}
	return total
}

// bracketSize is the most candidates (up to maxRound) whose planned bracket fits in left.
func (s *Search) bracketSize(first int, left float64, rungs []int) int {
	if s.planCost(first, 1, rungs) > left {
		return 0
	}
	lo, hi := 1, 2
	for hi <= maxRound && s.planCost(first, hi, rungs) <= left {
		lo, hi = hi, hi*2
	}
	hi = min(hi, maxRound+1)
	for hi-lo > 1 { // planCost(lo) fits, planCost(hi) does not (or hi is past the cap)
		mid := (lo + hi) / 2
		if s.planCost(first, mid, rungs) <= left {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// nextBracket decides where bracket b starts: the first rung and how many fresh
// candidates from next it starts there. The first bracket starts at rung 0 with as many
// candidates as the budget pays for (at least one). A later bracket spends what is
// left the way Hyperband's brackets do: at the lowest rung where at least eta
// candidates fit, else one or more candidates straight at the last rung (random search
// at the most epochs). n == 0: nothing fits.
func (s *Search) nextBracket(b, next int, left float64, rungs []int) (first, n int) {
	if b == 0 {
		return 0, s.bracketSize(next, left, rungs)
	}
	for k := range rungs {
		need := s.Set.Eta
		if k == len(rungs)-1 {
			need = 1
		}
		if n := s.bracketSize(next, left, rungs[k:]); n >= need {
			return k, n
		}
	}
	return 0, 0
}

// restCost is what rungs k.. of a bracket would cost if rung k kept the first m of
// ranked (entries of rung k-1, best first) and each later rung the best of those:
// carried entries cost nothing.
func (s *Search) restCost(ranked []*Entry, m, k int, rungs []int) float64 {
	total := 0.0
	for j := k; j < len(rungs); j++ {
		if j > k {
			m = s.survivors(m)
		}
		for _, e := range ranked[:m] {
			if !carries(e) {
				total += s.candidate(e.Cand).perEpoch * float64(rungs[j])
			}
		}
	}
	return total
}

// carries reports whether an entry's record can stand for the next rung: its rule
// stopped it before its epochs ran out.
func carries(e *Entry) bool {
	return e.Record != nil && e.Record.StopReason != mlp.ReasonEpochs
}

func (s *Search) replayHalving(st *State, done map[string]harness.Record) error {
	rungs := s.Set.Rungs()
	next := 0
	for b := 0; ; b++ {
		left := s.Set.BudgetFLOPs - st.Spent
		first, n := s.nextBracket(b, next, left, rungs)
		if n == 0 {
			if b == 0 {
				return fmt.Errorf("budget %.4g FLOPs cannot pay for one configuration through the rungs %v (%.4g FLOPs)", s.Set.BudgetFLOPs, rungs, s.planCost(0, 1, rungs))
			}
			st.Done = true
			st.Ended = fmt.Sprintf("no further bracket fits in the %.4g FLOPs left (not even one configuration at %d epochs)", left, rungs[len(rungs)-1])
			return nil
		}
		var prev *Round
		for k := first; k < len(rungs); k++ {
			ep := rungs[k]
			r := &Round{Bracket: b, Rung: k, Epochs: ep}
			label := fmt.Sprintf("b%d r%d", b, k)
			if k == first {
				for i := next; i < next+n; i++ {
					e, err := s.entry(st, i, ep, label)
					if err != nil {
						return err
					}
					r.Entries = append(r.Entries, e)
					r.Planned += s.candidate(i).perEpoch * float64(ep)
				}
				next += n
			} else {
				ranked := make([]*Entry, len(prev.Ranked))
				for i, j := range prev.Ranked {
					ranked[i] = &prev.Entries[j]
				}
				want := s.survivors(len(ranked))
				m := want
				for m > 0 && st.Spent+s.restCost(ranked, m, k, rungs) > s.Set.BudgetFLOPs {
					m--
				}
				if m == 0 {
					st.Done = true
					st.Ended = fmt.Sprintf("bracket %d: rung %d (%d epochs) does not fit in the %.4g FLOPs left", b, k, ep, s.Set.BudgetFLOPs-st.Spent)
					return nil
				}
				r.Dropped = want - m
				for _, pe := range ranked[:m] {
					if carries(pe) {
						e := *pe
						e.Config.Hidden = slices.Clone(pe.Config.Hidden)
						e.Config.Epochs = ep
						e.Carried, e.Trial, e.FLOPs = true, -1, 0
						r.Entries = append(r.Entries, e)
						continue
					}
					e, err := s.entry(st, pe.Cand, ep, label)
					if err != nil {
						return err
					}
					r.Entries = append(r.Entries, e)
					r.Planned += s.candidate(pe.Cand).perEpoch * float64(ep)
				}
			}
			st.Rounds = append(st.Rounds, r)
			if !s.finish(st, r, done) {
				st.Waiting = r.Name(Halving)
				return nil
			}
			prev = r
		}
	}
}

// choose picks the configuration: random search, the best of every wave; halving, the
// best of the brackets' last rungs (those that reached the most epochs when any did).
func (s *Search) choose(st *State) {
	var pool []*Entry
	if s.Set.Strategy == Random {
		for _, r := range st.Rounds {
			for i := range r.Entries {
				pool = append(pool, &r.Entries[i])
			}
		}
	} else {
		top := len(s.Set.Rungs()) - 1
		deepest := -1
		for _, r := range st.Rounds {
			deepest = max(deepest, r.Rung)
		}
		want := min(top, deepest)
		for _, r := range st.Rounds {
			if r.Rung == want {
				for i := range r.Entries {
					pool = append(pool, &r.Entries[i])
				}
			}
		}
	}
	es := make([]Entry, len(pool))
	for i, e := range pool {
		es[i] = *e
	}
	for _, i := range rank(es) {
		st.Finalists = append(st.Finalists, pool[i])
	}
	if len(st.Finalists) > 0 {
		st.Pick = st.Finalists[0]
	}
}
