package loadgen

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// Report is one run's figures; its JSON form is what -json prints.
type Report struct {
	Scenario    string  `json:"scenario"`
	Date        string  `json:"date"`
	Target      string  `json:"target"`
	ServerPID   int     `json:"serverPid,omitempty"`
	Learners    int     `json:"learners"`
	Conns       int     `json:"conns,omitempty"`
	ThinkMs     float64 `json:"thinkMs,omitempty"`
	DurationS   float64 `json:"durationCapSeconds"`
	SetupS      float64 `json:"setupSeconds"`
	LessonBytes int     `json:"lessonBytes,omitempty"`
	Phases      []Phase `json:"phases"`
	// Ratio is, for lesson-ratio, the Pathways phase's requests per
	// second over the bare handler's.
	Ratio float64 `json:"ratio,omitempty"`
}

// Phase is one measured stretch of the run: set-up is never in one.
type Phase struct {
	Name     string     `json:"name"`
	Seconds  float64    `json:"seconds"`
	Requests int        `json:"requests"`
	PerSec   float64    `json:"requestsPerSecond"`
	Ops      []OpStats  `json:"operations"`
	Flows    *FlowStats `json:"flows,omitempty"`
	// Server is the server process's figures over the phase, when its
	// pid is known; Generator this process's.
	Server    *Proc  `json:"server,omitempty"`
	Generator *Proc  `json:"generator"`
	Note      string `json:"note,omitempty"`
}

// Op returns the phase's figures of the named operation.
func (p Phase) Op(name string) (OpStats, bool) {
	for _, o := range p.Ops {
		if o.Name == name {
			return o, true
		}
	}
	return OpStats{}, false
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "pathways load %s — %s — target %s\n", r.Scenario, r.Date, r.Target)
	fmt.Fprintf(&b, "learners %d", r.Learners)
	if r.Conns > 0 {
		fmt.Fprintf(&b, ", connections %d", r.Conns)
	}
	if r.ThinkMs > 0 {
		fmt.Fprintf(&b, ", think %.0f ms ±50%%", r.ThinkMs)
	}
	fmt.Fprintf(&b, ", duration cap %.0f s; set-up %.1f s (not measured)\n", r.DurationS, r.SetupS)
	for _, ph := range r.Phases {
		fmt.Fprintf(&b, "\n%s: %.2f s, %d requests, %.1f req/s\n", ph.Name, ph.Seconds, ph.Requests, ph.PerSec)
		if ph.Note != "" {
			fmt.Fprintf(&b, "  (%s)\n", ph.Note)
		}
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "  operation\tcalls\trequests\tok\treq/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\trefused\tthen ok\tgave up\t")
		for _, o := range ph.Ops {
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%d\t%d\t%d\t\n", o.Name, o.Calls, o.Requests, o.OK, o.PerSec,
				o.Latency.P50, o.Latency.P95, o.Latency.P99, o.Latency.Max, o.Refused, o.RefusedThenOK, o.RefusedGaveUp)
		}
		tw.Flush()
		for _, o := range ph.Ops {
			fmt.Fprintf(&b, "  %s statuses: %s", o.Name, statuses(o.Statuses))
			if o.Transport > 0 {
				fmt.Fprintf(&b, ", %d without an answer", o.Transport)
			}
			b.WriteString("\n")
		}
		if f := ph.Flows; f != nil {
			fmt.Fprintf(&b, "  flows: %d started, %d completed, %d failed, %d unfinished; %d refused at some point, of which %d completed\n",
				f.Started, f.Completed, f.Failed, f.Unfinished, f.Refused, f.RefusedCompleted)
			if f.Latency.Count > 0 {
				fmt.Fprintf(&b, "  flow latency (completed): p50 %.0f ms, p95 %.0f ms, p99 %.0f ms, max %.0f ms\n",
					f.Latency.P50, f.Latency.P95, f.Latency.P99, f.Latency.Max)
			}
		}
		for _, p := range []struct {
			who  string
			proc *Proc
		}{{"server", ph.Server}, {"generator", ph.Generator}} {
			if p.proc != nil {
				fmt.Fprintf(&b, "  %s (pid %d): CPU %.0f ms (%.3f ms per request), peak RSS %.1f MiB (since %s), RSS %.1f MiB at the start, %.1f MiB at the end\n",
					p.who, p.proc.PID, p.proc.CPUMs, p.proc.CPUPerRequestMs, p.proc.PeakRSSMiB, p.proc.PeakSince, p.proc.StartRSSMiB, p.proc.RSSMiB)
			}
		}
	}
	if r.Ratio > 0 {
		fmt.Fprintf(&b, "\nratio pathways / bare: %.3f\n", r.Ratio)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func statuses(m map[int]int) string {
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d×%d", m[s], s))
	}
	if parts == nil {
		return "none"
	}
	return strings.Join(parts, ", ")
}
