package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// probe reads a server's CPU time, request count and resident set: from
// its /metrics (Prometheus text: process_cpu_seconds_total,
// process_resident_memory_bytes, oauth2broker_http_requests_total), or,
// with a pid, CPU and peak RSS from /proc/<pid> (Linux, same machine).
type probe struct {
	client  *http.Client
	base    string
	pid     int
	maxRSS  float64 // largest process_resident_memory_bytes seen, in bytes
	metrics bool    // the server answered /metrics at least once
}

func newProbe(client *http.Client, base string, pid int) *probe {
	return &probe{client: client, base: base, pid: pid}
}

// sample is one reading of a server's counters.
type sample struct {
	cpu      float64 // seconds
	requests float64 // oauth2broker_http_requests_total, all labels
}

// measure drives next against the server for d and returns what it
// measured, with the server's CPU time per answered request.
func (p *probe) measure(ctx context.Context, run driver, concurrency int, d time.Duration, next newRequest) (targetRun, error) {
	before, err := p.read(ctx)
	if err != nil {
		return targetRun{}, err
	}
	r := run(ctx, concurrency, d, next)
	after, err := p.read(ctx)
	if err != nil {
		return targetRun{}, err
	}
	out := targetRun{loadResult: r, ServerRequests: int(after.requests - before.requests)}
	if r.Requests > 0 {
		out.CPUus = round3((after.cpu - before.cpu) * 1e6 / float64(r.Requests))
	}
	return out, nil
}

// read takes one sample.
func (p *probe) read(ctx context.Context) (sample, error) {
	m, err := p.scrape(ctx)
	if err != nil && p.pid == 0 {
		return sample{}, err
	}
	s := sample{cpu: m["process_cpu_seconds_total"], requests: m["oauth2broker_http_requests_total"]}
	p.maxRSS = max(p.maxRSS, m["process_resident_memory_bytes"])
	if p.pid != 0 {
		if s.cpu, err = procCPUSeconds(p.pid); err != nil {
			return sample{}, err
		}
	}
	return s, nil
}

// scrape reads base/metrics and sums each metric over its labels.
func (p *probe) scrape(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("bench: %s/metrics answered %d", p.base, resp.StatusCode)
	}
	p.metrics = true
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		name, _, _ := strings.Cut(line[:i], "{")
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[name] += v
		}
	}
	return m, sc.Err()
}

// peakRSSMB is the server's peak resident set in MB, and where it comes
// from.
func (p *probe) peakRSSMB() (float64, string) {
	if p.pid != 0 {
		if kb, err := procStatusKB(strconv.Itoa(p.pid), "VmHWM:"); err == nil {
			return kb / 1024, fmt.Sprintf("VmHWM of pid %d", p.pid)
		}
	}
	return p.maxRSS / (1 << 20), "largest process_resident_memory_bytes sampled between works"
}

// procCPUSeconds is the user and system CPU time of pid, from
// /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s).
func procCPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count after its ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("bench: /proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bench: /proc/%d/stat: bad times", pid)
	}
	return (utime + stime) / 100, nil
}

// procStatusKB reads one kB field (such as "VmHWM:") of
// /proc/<proc>/status; proc is a pid or "self".
func procStatusKB(proc, field string) (float64, error) {
	b, err := os.ReadFile("/proc/" + proc + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			var kb float64
			_, err := fmt.Sscanf(strings.TrimSpace(v), "%f", &kb)
			return kb, err
		}
	}
	return 0, fmt.Errorf("bench: /proc/%s/status has no %s", proc, field)
}
