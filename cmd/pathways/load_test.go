package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/pathways-lms/pathways/internal/loadgen"
)

// loadRun runs `pathways load` with args and decodes its JSON report.
func loadRun(t *testing.T, env map[string]string, args ...string) *loadgen.Report {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"load", "-json"}, args...), func(k string) string { return env[k] }, &out, &errOut, nil)
	if err != nil {
		t.Fatalf("load %v: %v\n%s", args, err, errOut.String())
	}
	var rep loadgen.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out.String())
	}
	t.Logf("load %v:\n%s", args, errOut.String())
	return &rep
}

// coherent checks what every phase of a report must hold: requests add
// up, every answer is 2xx or a counted refusal (503, 429), every refused
// call is either retried to success or counted as given up, and the
// process figures are there.
func coherent(t *testing.T, rep *loadgen.Report, phases ...string) {
	t.Helper()
	if len(rep.Phases) != len(phases) {
		t.Fatalf("phases %d, want %v", len(rep.Phases), phases)
	}
	for i, ph := range rep.Phases {
		if ph.Name != phases[i] {
			t.Errorf("phase %d is %q, want %q", i, ph.Name, phases[i])
		}
		sum := 0
		for _, o := range ph.Ops {
			n := o.Transport
			for status, c := range o.Statuses {
				n += c
				if (status < 200 || status >= 300) && status != 503 && status != 429 {
					t.Errorf("%s %s: %d answers %d", ph.Name, o.Name, c, status)
				}
			}
			if n != o.Requests || o.Transport != 0 {
				t.Errorf("%s %s: statuses add up to %d, requests %d, %d without an answer", ph.Name, o.Name, n, o.Requests, o.Transport)
			}
			if o.RefusedThenOK+o.RefusedGaveUp != o.Refused || o.OK > o.Calls || o.Requests < o.Calls {
				t.Errorf("%s %s: incoherent counts %+v", ph.Name, o.Name, o)
			}
			if o.OK > 0 && (o.Latency.Count != o.OK || o.Latency.P50 > o.Latency.P99 || o.Latency.P99 > o.Latency.Max) {
				t.Errorf("%s %s: latency %+v for %d answers", ph.Name, o.Name, o.Latency, o.OK)
			}
			sum += o.Requests
		}
		if sum == 0 || sum != ph.Requests || ph.PerSec <= 0 {
			t.Errorf("%s: %d requests, operations add up to %d, %.1f req/s", ph.Name, ph.Requests, sum, ph.PerSec)
		}
		if ph.Generator == nil || ph.Generator.CPUMs <= 0 || ph.Generator.PeakRSSMiB <= 0 {
			t.Errorf("%s: generator figures %+v", ph.Name, ph.Generator)
		}
		if f := ph.Flows; f != nil && (f.Completed+f.Failed+f.Unfinished != f.Started || f.Failed != 0 || f.RefusedCompleted > f.Refused) {
			t.Errorf("%s: flows %+v", ph.Name, f)
		}
	}
}

// TestLoadClassBurstSpawned runs the documented path: `pathways load`
// spawns a real server process (this test binary as `serve`, see
// TestMain), sets up through its API, runs the class burst and stops
// it. Every learner's flow completes, with 20 answers each, and the
// server's CPU time is the child's.
func TestLoadClassBurstSpawned(t *testing.T) {
	t.Setenv("PATHWAYS_TEST_RUN_MAIN", "1") // the spawned copy of this binary serves
	const learners = 3
	rep := loadRun(t, nil, "-scenario", "class-burst", "-learners", fmt.Sprint(learners), "-setup-concurrency", "3")
	coherent(t, rep, "class-burst")
	ph := rep.Phases[0]
	if f := ph.Flows; f == nil || f.Started != learners || f.Completed != learners || f.Latency.Count != learners {
		t.Errorf("flows %+v, want %d completed", ph.Flows, learners)
	}
	for op, want := range map[string]int{"start-attempt": learners, "save-answer": 20 * learners, "submit": learners} {
		if o, ok := ph.Op(op); !ok || o.OK != want || o.Calls != want {
			t.Errorf("%s: %+v, want %d ok", op, o, want)
		}
	}
	if ph.Server == nil || ph.Server.PID == os.Getpid() || ph.Server.CPUMs <= 0 || ph.Server.PeakRSSMiB <= 0 || ph.Server.CPUPerRequestMs <= 0 {
		t.Errorf("server figures %+v, want the child's", ph.Server)
	}
	if !strings.HasPrefix(rep.Target, "spawned http://127.0.0.1:") {
		t.Errorf("target %q", rep.Target)
	}
}

// TestLoadRunningServer drives a server started in this process (-addr,
// -pid: the /proc figures are then this process's, generator included)
// with the day mix and the lesson ratio, at a tiny size.
func TestLoadRunningServer(t *testing.T) {
	const password = "a long admin passphrase"
	in := start(t, map[string]string{"PATHWAYS_DATA_DIR": t.TempDir(), "PATHWAYS_LOG_LEVEL": "error", "PATHWAYS_DEMO": "false",
		"PATHWAYS_ADMIN_USERNAME": "coordinator", "PATHWAYS_ADMIN_PASSWORD": password})
	env := map[string]string{"PATHWAYS_ADMIN_USERNAME": "coordinator", "PATHWAYS_ADMIN_PASSWORD": password}
	target := []string{"-addr", in.base, "-pid", fmt.Sprint(os.Getpid()), "-setup-concurrency", "3"}

	rep := loadRun(t, env, append(target, "-scenario", "day-mix", "-learners", "3", "-think", "20ms", "-duration", "2s")...)
	coherent(t, rep, "day-mix")
	ph := rep.Phases[0]
	if ph.Flows == nil || ph.Flows.Started < 1 || ph.Server == nil || ph.Server.CPUMs <= 0 {
		t.Errorf("day-mix: flows %+v, server %+v", ph.Flows, ph.Server)
	}

	rep = loadRun(t, env, append(target, "-scenario", "lessons", "-bare", "-learners", "2", "-conns", "2", "-duration", "1s")...)
	coherent(t, rep, "pathways", "bare")
	if rep.Scenario != "lesson-ratio" || rep.Ratio <= 0 || rep.LessonBytes == 0 {
		t.Errorf("lesson ratio: %q %.3f, %d bytes", rep.Scenario, rep.Ratio, rep.LessonBytes)
	}
	if rep.Phases[0].Server == nil || rep.Phases[1].Server != nil {
		t.Errorf("server figures: pathways %+v, bare %+v (the bare handler has no server of its own)", rep.Phases[0].Server, rep.Phases[1].Server)
	}
	for _, ph := range rep.Phases {
		if o, ok := ph.Op("lesson"); !ok || o.OK == 0 || o.OK != o.Calls {
			t.Errorf("%s: lessons %+v", ph.Name, o)
		}
	}
}

// TestLoadArguments: bad arguments are refused before anything starts.
func TestLoadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"-scenario", "stampede"},
		{"-spawn", "-addr", "http://127.0.0.1:1"},
		{"-addr", "http://127.0.0.1:1"}, // no admin password
		{"extra"},
		{"-scenario", "lesson-ratio", "-server-cpus", "0"}, // the bare handler would share the generator's CPU
	} {
		err := run(context.Background(), append([]string{"load"}, args...), func(string) string { return "" }, io.Discard, io.Discard, nil)
		if err == nil {
			t.Errorf("load %v: accepted", args)
		}
	}
}
