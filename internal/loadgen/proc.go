package loadgen

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times. It is 100
// on every Linux build this runs on (the kernel fixes it for user space;
// Go cannot ask sysconf without cgo).
const clockTicks = 100

// procSample is a process's CPU time and memory at one moment.
type procSample struct {
	cpuTicks int64 // utime + stime
	hwmKiB   int64 // VmHWM: the peak resident set
	rssKiB   int64 // VmRSS
}

// readProc reads pid's /proc figures.
func readProc(pid int) (procSample, error) {
	var s procSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, fmt.Errorf("server CPU time: %w", err)
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count fields from the last ')'. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("/proc/%d/stat: unexpected form", pid)
	}
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 13 {
		return s, fmt.Errorf("/proc/%d/stat: unexpected form", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("/proc/%d/stat: utime %q, stime %q", pid, fields[11], fields[12])
	}
	s.cpuTicks = utime + stime

	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("server memory: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch name {
		case "VmHWM":
			dst = &s.hwmKiB
		case "VmRSS":
			dst = &s.rssKiB
		default:
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return s, fmt.Errorf("/proc/%d/status %s: %q", pid, name, value)
		}
		*dst = n
	}
	return s, sc.Err()
}

// resetPeak sets pid's VmHWM back to its current resident set (Linux's
// clear_refs "5"), so the peak read after the measured phase is that
// phase's, not set-up's (which hashes every learner's PIN). It needs the
// right to write the process's clear_refs: the process's owner or root.
func resetPeak(pid int) bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
}

// Proc is what /proc says of a process over a measured phase.
type Proc struct {
	PID int `json:"pid"`
	// CPUMs is utime+stime used during the phase, in milliseconds.
	CPUMs float64 `json:"cpuMs"`
	// CPUPerRequestMs is CPUMs over the requests the phase sent.
	CPUPerRequestMs float64 `json:"cpuPerRequestMs"`
	// PeakRSSMiB is VmHWM at the phase's end; PeakSince says from when:
	// "phase" when the peak was reset at its start, else "process start".
	// Reset at
	// the phase's start, it is at least StartRSSMiB, the resident set
	// then (which may still hold set-up's memory, not yet returned).
	PeakRSSMiB  float64 `json:"peakRssMiB"`
	PeakSince   string  `json:"peakSince"`
	StartRSSMiB float64 `json:"startRssMiB"`
	RSSMiB      float64 `json:"rssMiB"`
}

// procMeter measures one process over a phase.
type procMeter struct {
	pid    int
	before procSample
	reset  bool
}

func startMeter(pid int) (*procMeter, error) {
	if pid <= 0 {
		return nil, nil
	}
	m := &procMeter{pid: pid, reset: resetPeak(pid)}
	var err error
	m.before, err = readProc(pid)
	return m, err
}

func (m *procMeter) stop(requests int) (*Proc, error) {
	if m == nil {
		return nil, nil
	}
	after, err := readProc(m.pid)
	if err != nil {
		return nil, err
	}
	p := &Proc{
		PID:         m.pid,
		CPUMs:       float64(after.cpuTicks-m.before.cpuTicks) * 1000 / clockTicks,
		PeakRSSMiB:  round1(float64(after.hwmKiB) / 1024),
		RSSMiB:      round1(float64(after.rssKiB) / 1024),
		StartRSSMiB: round1(float64(m.before.rssKiB) / 1024),
		PeakSince:   "process start",
	}
	if m.reset {
		p.PeakSince = "phase"
	}
	if requests > 0 {
		p.CPUPerRequestMs = round3(p.CPUMs / float64(requests))
	}
	return p, nil
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }
