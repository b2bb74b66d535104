package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/ceiling"
)

// targetOptions are the flags of a `bench --target` run.
type targetOptions struct {
	target, ceiling string // base URLs of the running broker and ceiling process
	adminToken      string
	pid, ceilingPID int // when set, CPU and peak RSS come from /proc/<pid>
	concurrency     int
	duration        time.Duration
	rounds          int
	only            string
	connections     int    // identities connected beyond the workers' (RSS with N connections stored)
	driver          string // "raw" (driveRaw, the default) or "client" (drive, on http.Client)
}

// driver runs one measurement: drive or driveRaw.
type driver func(ctx context.Context, concurrency int, d time.Duration, next newRequest) loadResult

// driverFor returns the driver named by --driver.
func driverFor(name string, client *http.Client) (driver, error) {
	switch name {
	case "", "raw":
		return driveRaw, nil
	case "client":
		return func(ctx context.Context, concurrency int, d time.Duration, next newRequest) loadResult {
			return drive(ctx, client, concurrency, d, next)
		}, nil
	}
	return nil, usagef("--driver %q: want raw or client", name)
}

// targetWork is one request shape of a --target run, measured against the
// server that serves it, with the ceiling its ratio is taken against.
type targetWork struct {
	name    string
	onCeil  bool   // served by the ceiling process, not the broker
	versus  string // the ceiling of its ratio; "" for a ceiling
	request func(b *benchEnv) newRequest
}

// targetWorks are measured in this order in each round. The ratios are
// against the Gin ceilings, as the issue states its targets; the net/http
// ones show what Gin itself costs.
var targetWorks = []targetWork{
	{"net_ceiling", true, "", func(b *benchEnv) newRequest { return b.ceilingRequest(b.ceiling + netCeilingPath) }},
	{"net_sign_ceiling", true, "", func(b *benchEnv) newRequest { return b.ceilingRequest(b.ceiling + netSignCeilingPath) }},
	{"gin_ceiling", true, "", func(b *benchEnv) newRequest { return b.ceilingRequest(b.ceiling + ceiling.BarePath) }},
	{"gin_sign_ceiling", true, "", func(b *benchEnv) newRequest { return b.ceilingRequest(b.ceiling + ceiling.SignPath) }},
	{"client_credentials", false, "gin_sign_ceiling", workloadRequest("client_credentials")},
	{"client_credentials_hmac", false, "gin_ceiling", workloadRequest("client_credentials_hmac")},
	{"introspect", false, "gin_ceiling", workloadRequest("introspect")},
	{"connection_token", false, "gin_ceiling", workloadRequest("connection_token")},
	{"proxy", false, "gin_ceiling", workloadRequest("proxy")},
}

func workloadRequest(name string) func(b *benchEnv) newRequest {
	i := slices.IndexFunc(benchWorkloads, func(w workload) bool { return w.name == name })
	return benchWorkloads[i].next
}

// targetRun is one round of one work.
type targetRun struct {
	loadResult
	// CPUus is the server's CPU time (user and system) per answered
	// request, in microseconds.
	CPUus float64 `json:"cpu_us"`
	// ServerRequests is how many requests the broker counted
	// (oauth2broker_http_requests_total); 0 for the ceiling process.
	ServerRequests int `json:"server_requests,omitempty"`
}

// targetResult is a work's medians over the rounds, and the rounds.
type targetResult struct {
	RPS    float64 `json:"rps"`
	P50ms  float64 `json:"p50_ms"`
	P99ms  float64 `json:"p99_ms"`
	CPUus  float64 `json:"cpu_us"`
	Versus string  `json:"versus,omitempty"`
	// Ratio is the median of the rounds' req/s ratios to Versus (measured
	// in the same round); CPURatio the same for Versus's CPU per request
	// over this work's, the steadier of the two on a shared machine.
	Ratio    float64     `json:"ratio,omitempty"`
	CPURatio float64     `json:"cpu_ratio,omitempty"`
	Runs     []targetRun `json:"runs"`
}

// targetReport is the output of a --target run.
type targetReport struct {
	Target      string                  `json:"target"`
	API         string                  `json:"api"` // the API this run provisioned
	Ceiling     string                  `json:"ceiling"`
	Concurrency int                     `json:"concurrency"`
	DurationS   float64                 `json:"duration_s"`
	Rounds      int                     `json:"rounds"`
	Driver      string                  `json:"driver"`
	CPUs        int                     `json:"cpus"`
	CPUModel    string                  `json:"cpu_model"`
	Works       map[string]targetResult `json:"works"`
	// PeakRSSMB is the broker's peak resident set: VmHWM with --pid,
	// else the largest process_resident_memory_bytes seen between works.
	PeakRSSMB         float64 `json:"peak_rss_mb"`
	RSSSource         string  `json:"rss_source"`
	StoredConnections int     `json:"stored_connections"`
}

// randomAPIName names the bench's API on a broker that may already have
// one from an earlier run.
func randomAPIName() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "bench-" + hex.EncodeToString(b)
}

// benchTarget drives a running broker and ceiling process (see
// targetOptions) and reports each work's medians.
func benchTarget(ctx context.Context, o targetOptions, stderr io.Writer) (*targetReport, error) {
	b := &benchEnv{client: benchClient(o.concurrency), broker: strings.TrimRight(o.target, "/"), ceiling: strings.TrimRight(o.ceiling, "/"),
		api: randomAPIName(), adminToken: o.adminToken}
	b.upstream = b.ceiling
	run, err := driverFor(o.driver, b.client)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "provisioning API %s on %s…\n", b.api, b.broker)
	if err := b.provision(o.concurrency); err != nil {
		return nil, err
	}
	if o.connections > 0 {
		fmt.Fprintf(stderr, "connecting %d more identities…\n", o.connections)
		if err := b.connectMany(ctx, o.connections, o.concurrency); err != nil {
			return nil, err
		}
	}
	srv := newProbe(b.client, b.broker, o.pid)
	ceil := newProbe(b.client, b.ceiling, o.ceilingPID)
	rep := &targetReport{Target: b.broker, API: b.api, Ceiling: b.ceiling, Concurrency: o.concurrency, DurationS: o.duration.Seconds(), Rounds: o.rounds, Driver: cmp.Or(o.driver, "raw"),
		CPUs: runtime.NumCPU(), CPUModel: cpuModel(), Works: map[string]targetResult{}, StoredConnections: o.concurrency + 1 + o.connections}
	works := selectWorks(o.only)
	for round := 0; round < o.rounds && ctx.Err() == nil; round++ {
		for _, w := range works {
			p := srv
			if w.onCeil {
				p = ceil
			}
			m, err := p.measure(ctx, run, o.concurrency, o.duration, w.request(b))
			if err != nil {
				return nil, fmt.Errorf("bench: %s: %w", w.name, err)
			}
			r := rep.Works[w.name]
			r.Runs = append(r.Runs, m)
			rep.Works[w.name] = r
			fmt.Fprintf(stderr, "round %d %-24s %8.0f req/s %7.1f µs CPU/req  p99 %.2f ms\n", round+1, w.name, m.RPS, m.CPUus, m.P99ms)
		}
	}
	for _, w := range works {
		rep.Works[w.name] = summarizeRuns(rep.Works[w.name], rep.Works[w.versus], w.versus)
	}
	rep.PeakRSSMB, rep.RSSSource = srv.peakRSSMB()
	return rep, ctx.Err()
}

// selectWorks is every work, or the ceilings and those named in only.
func selectWorks(only string) []targetWork {
	if only == "" {
		return targetWorks
	}
	named := strings.Split(only, ",")
	var ws []targetWork
	for _, w := range targetWorks {
		if w.onCeil || slices.Contains(named, w.name) {
			ws = append(ws, w)
		}
	}
	return ws
}

// summarizeRuns sets r's medians, and its ratios to the ceiling c, whose
// runs were measured in the same rounds.
func summarizeRuns(r, c targetResult, versus string) targetResult {
	pick := func(f func(targetRun) float64) float64 {
		var v []float64
		for _, run := range r.Runs {
			v = append(v, f(run))
		}
		return median(v)
	}
	r.RPS = pick(func(x targetRun) float64 { return x.RPS })
	r.P50ms = pick(func(x targetRun) float64 { return x.P50ms })
	r.P99ms = pick(func(x targetRun) float64 { return x.P99ms })
	r.CPUus = round3(pick(func(x targetRun) float64 { return x.CPUus }))
	if versus == "" || len(c.Runs) != len(r.Runs) {
		return r
	}
	var rps, cpu []float64
	for i, run := range r.Runs {
		if run.RPS > 0 && run.CPUus > 0 {
			rps = append(rps, run.RPS/c.Runs[i].RPS)
			cpu = append(cpu, c.Runs[i].CPUus/run.CPUus)
		}
	}
	r.Versus, r.Ratio, r.CPURatio = versus, round3(median(rps)), round3(median(cpu))
	return r
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// printTarget writes the report as one table.
func printTarget(w io.Writer, rep *targetReport) {
	fmt.Fprintf(w, "oauth2broker bench --target %s (ceilings %s): %d CPUs (%s), concurrency %d (%s driver), %d rounds of %.0fs, medians\n\n",
		rep.Target, rep.Ceiling, rep.CPUs, rep.CPUModel, rep.Concurrency, rep.Driver, rep.Rounds, rep.DurationS)
	fmt.Fprintf(w, "%-24s %9s %8s %8s %9s %-17s %7s %9s %7s\n", "work", "req/s", "p50 ms", "p99 ms", "CPU µs/req", "vs", "ratio", "CPU ratio", "errors")
	for _, tw := range targetWorks {
		r, ok := rep.Works[tw.name]
		if !ok {
			continue
		}
		errs := 0
		for _, run := range r.Runs {
			errs += run.Errors
		}
		vs, ratio, cpu := "-", "-", "-"
		if r.Versus != "" {
			vs, ratio, cpu = r.Versus, fmt.Sprintf("%.3f", r.Ratio), fmt.Sprintf("%.3f", r.CPURatio)
		}
		fmt.Fprintf(w, "%-24s %9.0f %8.2f %8.2f %10.1f %-17s %7s %9s %7d\n", tw.name, r.RPS, r.P50ms, r.P99ms, r.CPUus, vs, ratio, cpu, errs)
	}
	fmt.Fprintf(w, "\nbroker peak RSS %.0f MB (%s), %d connections stored by this run\n", rep.PeakRSSMB, rep.RSSSource, rep.StoredConnections)
}

// addTargetFlags adds the flags of a --target run to fs.
func addTargetFlags(fs *flag.FlagSet) *targetOptions {
	o := &targetOptions{}
	fs.StringVar(&o.target, "target", "", "drive the broker running at this base URL instead of one in-process (see bench ceiling)")
	fs.StringVar(&o.ceiling, "ceiling", "", "with --target: base URL of `oauth2broker bench ceiling` (the ceilings and the instant upstream the broker calls)")
	fs.StringVar(&o.adminToken, "admin-token", os.Getenv("OAUTH2BROKER_ADMIN_TOKEN"), "with --target: the broker's admin token (provisions the bench's APIs)")
	fs.IntVar(&o.pid, "pid", 0, "with --target: the broker's pid, to read its CPU time and peak RSS from /proc (default: its /metrics)")
	fs.IntVar(&o.ceilingPID, "ceiling-pid", 0, "with --target: the ceiling process's pid (default: its /metrics)")
	fs.IntVar(&o.rounds, "rounds", 3, "with --target: rounds of every work, interleaved; the report gives medians")
	fs.StringVar(&o.driver, "driver", "raw", "with --target: raw (one TCP connection per worker, http.ReadResponse; lighter) or client (net/http.Client)")
	return o
}

// runTarget checks the options, runs benchTarget and prints its report.
func runTarget(ctx context.Context, o targetOptions, asJSON bool, stdout, stderr io.Writer) error {
	if o.ceiling == "" || o.adminToken == "" || o.rounds < 1 {
		return usagef("--target needs --ceiling, --admin-token and --rounds ≥ 1")
	}
	rep, err := benchTarget(ctx, o, stderr)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printTarget(stdout, rep)
	return nil
}
