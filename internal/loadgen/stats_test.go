package loadgen

import (
	"net/http"
	"os"
	"testing"
	"time"
)

func TestLatencyPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	got := latency(d)
	if want := (Latency{Count: 100, P50: 50, P95: 95, P99: 99, Max: 100}); got != want {
		t.Errorf("latency of 1..100 ms: %+v, want %+v", got, want)
	}
	if got := latency(d[:1]); got.P50 != 100 || got.P99 != 100 || got.Max != 100 {
		t.Errorf("latency of one value: %+v", got)
	}
	if got := latency(nil); got != (Latency{}) {
		t.Errorf("latency of none: %+v", got)
	}
}

func TestMerge(t *testing.T) {
	a, b := newRecorder(), newRecorder()
	a.op("submit").statuses[200] = 2
	a.op("submit").latencies = []time.Duration{time.Millisecond, 2 * time.Millisecond}
	b.op("submit").statuses[503] = 1
	b.op("submit").refused, b.op("submit").refusedOK = 1, 1
	b.flows.started, b.flows.completed = 1, 1
	all := newRecorder()
	all.merge(a)
	all.merge(b)
	ops, n := all.opStats(time.Second)
	if n != 3 || len(ops) != 1 || ops[0].Statuses[200] != 2 || ops[0].Statuses[503] != 1 || ops[0].RefusedThenOK != 1 || ops[0].Latency.Count != 2 {
		t.Errorf("merged: %d requests, %+v", n, ops)
	}
	if f := all.flowStats(); f == nil || f.Completed != 1 {
		t.Errorf("flows: %+v", f)
	}
}

// TestReadProc reads this process's own /proc figures.
func TestReadProc(t *testing.T) {
	m, err := startMeter(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for x := 0; ; x++ { // spend some CPU: at least one clock tick
		if s, _ := readProc(os.Getpid()); s.cpuTicks > m.before.cpuTicks || time.Now().After(deadline) {
			break
		}
	}
	p, err := m.stop(10)
	if err != nil {
		t.Fatal(err)
	}
	if p.CPUMs <= 0 || p.CPUPerRequestMs != p.CPUMs/10 || p.PeakRSSMiB <= 0 || p.RSSMiB <= 0 || p.PeakRSSMiB < p.RSSMiB {
		t.Errorf("figures %+v", p)
	}
	if _, err := readProc(-1); err == nil {
		t.Error("no error for a process that does not exist")
	}
}

func TestRetryAfter(t *testing.T) {
	for header, min := range map[string]time.Duration{"3": 3 * time.Second, "": time.Second, "soon": time.Second, "0": 0} {
		h := http.Header{}
		if header != "" {
			h.Set("Retry-After", header)
		}
		if got := retryAfter(h); got < min || got > min+min/2 {
			t.Errorf("Retry-After %q: waits %v, want %v to %v", header, got, min, min+min/2)
		}
	}
}
