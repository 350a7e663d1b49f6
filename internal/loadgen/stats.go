package loadgen

import (
	"maps"
	"math"
	"slices"
	"time"
)

// recorder keeps what one worker saw, without locks; the workers'
// recorders are merged when the phase ends.
type recorder struct {
	ops      map[string]*opRecord
	flows    flowRecord
	refusals int // answers 503 or 429, so a flow can tell it was refused
}

func newRecorder() *recorder { return &recorder{ops: map[string]*opRecord{}} }

// opRecord is what was seen of one operation (save-answer, submit, …).
type opRecord struct {
	latencies  []time.Duration // of the 2xx answers only
	statuses   map[int]int     // every answer, retries included
	transport  int             // requests that got no answer (connection errors, timeouts)
	calls      int             // logical operations: a call and its retries count once
	ok         int             // calls that ended 2xx
	refused    int             // calls refused (503 or 429) at least once
	refusedOK  int             // of those, calls that succeeded on a retry
	refusedBad int             // of those, calls that gave up (retries used up, or the run's end)
}

// flowRecord is what was seen of whole flows (one learner's attempt:
// start, answers, submit).
type flowRecord struct {
	latencies  []time.Duration // of completed flows
	started    int
	completed  int
	failed     int
	refused    int // flows in which some call was refused at least once
	refusedOK  int // of those, flows that completed
	unfinished int // flows the run's end interrupted (day-mix)
}

func (r *recorder) op(name string) *opRecord {
	o := r.ops[name]
	if o == nil {
		o = &opRecord{statuses: map[int]int{}}
		r.ops[name] = o
	}
	return o
}

// merge adds o's figures to r.
func (r *recorder) merge(o *recorder) {
	for name, src := range o.ops {
		dst := r.op(name)
		dst.latencies = append(dst.latencies, src.latencies...)
		for s, n := range src.statuses {
			dst.statuses[s] += n
		}
		dst.transport += src.transport
		dst.calls += src.calls
		dst.ok += src.ok
		dst.refused += src.refused
		dst.refusedOK += src.refusedOK
		dst.refusedBad += src.refusedBad
	}
	f, g := &r.flows, o.flows
	f.latencies = append(f.latencies, g.latencies...)
	f.started += g.started
	f.completed += g.completed
	f.failed += g.failed
	f.refused += g.refused
	f.refusedOK += g.refusedOK
	f.unfinished += g.unfinished
}

// Latency is a latency distribution in milliseconds: nearest-rank
// percentiles of the recorded values.
type Latency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50Ms"`
	P95   float64 `json:"p95Ms"`
	P99   float64 `json:"p99Ms"`
	Max   float64 `json:"maxMs"`
}

func latency(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	pct := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return ms(s[min(max(i, 0), len(s)-1)])
	}
	return Latency{Count: len(s), P50: pct(0.50), P95: pct(0.95), P99: pct(0.99), Max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1000 }

// OpStats is the report of one operation.
type OpStats struct {
	Name string `json:"name"`
	// Calls counts logical operations (a call and its retries once),
	// Requests every HTTP request sent, retries included.
	Calls    int     `json:"calls"`
	Requests int     `json:"requests"`
	OK       int     `json:"ok"`
	PerSec   float64 `json:"requestsPerSecond"`
	// Latency is over the 2xx answers.
	Latency Latency `json:"latency"`
	// Statuses counts every answer by HTTP status; Transport counts
	// requests that got none.
	Statuses  map[int]int `json:"statuses"`
	Transport int         `json:"transportErrors,omitempty"`
	// Refused counts calls answered 503 or 429 at least once;
	// RefusedThenOK those that succeeded on a retry, RefusedGaveUp
	// those that did not.
	Refused       int `json:"refused"`
	RefusedThenOK int `json:"refusedThenOk"`
	RefusedGaveUp int `json:"refusedGaveUp"`
}

// FlowStats is the report of whole flows.
type FlowStats struct {
	Started   int `json:"started"`
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
	// Unfinished flows were interrupted by the end of the run.
	Unfinished int `json:"unfinished"`
	// Refused counts flows in which some call was refused (503, 429) at
	// least once, RefusedCompleted those of them that completed anyway.
	Refused          int     `json:"refused"`
	RefusedCompleted int     `json:"refusedCompleted"`
	Latency          Latency `json:"latency"`
}

func (r *recorder) opStats(elapsed time.Duration) (ops []OpStats, requests int) {
	for _, name := range slices.Sorted(maps.Keys(r.ops)) {
		o := r.ops[name]
		n := o.transport
		for _, c := range o.statuses {
			n += c
		}
		requests += n
		ops = append(ops, OpStats{
			Name: name, Calls: o.calls, Requests: n, OK: o.ok, PerSec: perSec(n, elapsed),
			Latency: latency(o.latencies), Statuses: o.statuses, Transport: o.transport,
			Refused: o.refused, RefusedThenOK: o.refusedOK, RefusedGaveUp: o.refusedBad,
		})
	}
	return ops, requests
}

func (r *recorder) flowStats() *FlowStats {
	f := r.flows
	if f.started == 0 {
		return nil
	}
	return &FlowStats{
		Started: f.started, Completed: f.completed, Failed: f.failed, Unfinished: f.unfinished,
		Refused: f.refused, RefusedCompleted: f.refusedOK, Latency: latency(f.latencies),
	}
}

func perSec(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return math.Round(float64(n)/d.Seconds()*10) / 10
}
