package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// benchReport is the --json output of `oauth2broker bench`.
type benchReport struct {
	CeilingRPS     float64               `json:"ceiling_rps"`
	SignCeilingRPS float64               `json:"sign_ceiling_rps"`
	Workloads      map[string]loadResult `json:"workloads"`
	Concurrency    int                   `json:"concurrency"`
	DurationS      float64               `json:"duration_s"`
	CPUs           int                   `json:"cpus"`
	CPUModel       string                `json:"cpu_model"`
	MaxRSSMB       float64               `json:"max_rss_mb"`
	// With --connections: how many were seeded, how long that took, and
	// how long the grown store then took to open.
	SeededConnections int     `json:"seeded_connections,omitempty"`
	SeedSeconds       float64 `json:"seed_s,omitempty"`
	StoreOpenMS       float64 `json:"store_open_ms,omitempty"`
	// With the password_flood workload: what its flood of failed
	// password logins saw.
	Flood *floodResult `json:"flood,omitempty"`
}

// workload is one measured request shape.
type workload struct {
	name string
	// signs: the workload issues a fresh JWT per request.
	signs bool
	next  func(b *benchEnv) newRequest
}

// floodWorkload is client_credentials measured while failed password
// logins flood the broker (bench_flood.go); it runs only when named in
// --workloads.
const floodWorkload = "password_flood"

// benchWorkloads are measured in this order, after the two ceilings.
var benchWorkloads = []workload{
	{"client_credentials", true, func(b *benchEnv) newRequest {
		return b.form("/oauth2/token", func(int) url.Values { return url.Values{"grant_type": {"client_credentials"}} })
	}},
	{"client_credentials_hmac", false, func(b *benchEnv) newRequest {
		return b.formAs(b.hmacID, b.hmacSecret, "/"+b.api+"-hmac/oauth2/token", func(int) url.Values { return url.Values{"grant_type": {"client_credentials"}} })
	}},
	{"password", true, func(b *benchEnv) newRequest {
		return b.form("/oauth2/token", func(int) url.Values {
			return url.Values{"grant_type": {"password"}, "username": {"user"}, "password": {"bench-password"}}
		})
	}},
	{floodWorkload, true, func(b *benchEnv) newRequest {
		return b.form("/oauth2/token", func(int) url.Values { return url.Values{"grant_type": {"client_credentials"}} })
	}},
	{"introspect", false, func(b *benchEnv) newRequest {
		return b.form("/oauth2/introspect", func(int) url.Values { return url.Values{"token": {b.accessToken}} })
	}},
	{"connection_token", false, func(b *benchEnv) newRequest {
		return b.form("/oauth2/token", func(int) url.Values {
			if b.seeded > 0 {
				return url.Values{"client_user_identity": {fmt.Sprintf("seed-%d", rand.IntN(b.seeded))}}
			}
			return url.Values{"client_user_identity": {"user-shared"}}
		})
	}},
	{"connection_refresh", false, func(b *benchEnv) newRequest {
		return b.form("/oauth2/token", func(w int) url.Values {
			return url.Values{"client_user_identity": {fmt.Sprintf("user-%d", w)}, "force_refresh": {"true"}}
		})
	}},
	{"proxy", false, (*benchEnv).proxyRequest},
	{"authorize", false, func(b *benchEnv) newRequest {
		return b.form("/oauth2/provider/authorize", func(w int) url.Values {
			return url.Values{"client_user_identity": {fmt.Sprintf("user-%d", w)}}
		})
	}},
}

// form returns a request builder for a client-authenticated form POST
// to path under the bench API.
func (b *benchEnv) form(path string, params func(worker int) url.Values) newRequest {
	return b.formAs(b.clientID, b.secret, "/"+b.api+path, params)
}

func (b *benchEnv) formAs(id, secret, path string, params func(worker int) url.Values) newRequest {
	u := b.broker + path
	return func(w int) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(params(w).Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret)
		return req
	}
}

// ceilingRequest builds the ceilings' request: a client_credentials form
// POST to u with Basic credentials, as the broker's token requests are.
func (b *benchEnv) ceilingRequest(u string) newRequest {
	return func(int) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(b.clientID, b.secret)
		return req
	}
}

// proxyRequest builds a cached-token proxy call: GET through the
// connection of user-shared to the instant upstream's API.
func (b *benchEnv) proxyRequest() newRequest {
	u := b.broker + "/" + b.api + "/oauth2/proxy/up/items"
	return func(int) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.SetBasicAuth(b.clientID, b.secret)
		req.Header.Set("X-Client-User-Identity", "user-shared")
		return req
	}
}

// benchCmd is `oauth2broker bench`.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "ceiling" {
		return benchCeilingCmd(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := fs.Duration("duration", 10*time.Second, "how long each workload runs")
	concurrency := fs.Int("concurrency", 32, "concurrent workers (keep-alive connections)")
	only := fs.String("workloads", "", "comma-separated workloads to run (default all but "+floodWorkload+")")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	seed := fs.Int("connections", 0, "seed this many connections first; connection_token then reads random ones")
	flags := addBenchFlags(fs)
	target := addTargetFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *concurrency < 1 || *duration <= 0 {
		return usagef("--concurrency and --duration must be positive")
	}
	if target.target != "" {
		target.concurrency, target.duration, target.only, target.connections = *concurrency, *duration, *only, *seed
		return runTarget(ctx, *target, *asJSON, stdout, stderr)
	}
	tune, err := flags.tune()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "oauth2broker-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b, err := startBench(ctx, dir, *concurrency, tune)
	if err != nil {
		return err
	}
	defer b.close()
	var seeding time.Duration
	if *seed > 0 {
		fmt.Fprintf(stderr, "seeding %d connections…\n", *seed)
		if seeding, err = b.seed(ctx, *seed, 256); err != nil {
			return err
		}
		b.seeded = *seed
	}
	rep := runBench(ctx, b, *concurrency, *duration, *only)
	if *seed > 0 {
		rep.SeededConnections, rep.SeedSeconds = *seed, seeding.Seconds()
		rep.StoreOpenMS = float64(b.storeOpen.Microseconds()) / 1000
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printBench(stdout, rep)
	return nil
}

func runBench(ctx context.Context, b *benchEnv, concurrency int, d time.Duration, only string) *benchReport {
	rep := &benchReport{Workloads: map[string]loadResult{}, Concurrency: concurrency, DurationS: d.Seconds(), CPUs: runtime.NumCPU(), CPUModel: cpuModel()}
	rep.CeilingRPS = drive(ctx, b.client, concurrency, d, b.ceilingRequest(b.ceiling+netCeilingPath)).RPS
	rep.SignCeilingRPS = drive(ctx, b.client, concurrency, d, b.ceilingRequest(b.signCeiling+netCeilingPath)).RPS
	for _, w := range benchWorkloads {
		named := slices.Contains(strings.Split(only, ","), w.name)
		if !named && (only != "" || w.name == floodWorkload) {
			continue
		}
		var r loadResult
		if w.name == floodWorkload {
			var f floodResult
			r, f = driveFlooded(ctx, b, concurrency, d, w.next(b))
			rep.Flood = &f
		} else {
			r = drive(ctx, b.client, b.workers(w, concurrency), d, w.next(b))
		}
		if rep.CeilingRPS > 0 {
			r.Ratio = round3(r.RPS / rep.CeilingRPS)
		}
		if w.signs && rep.SignCeilingRPS > 0 {
			r.SignRatio = round3(r.RPS / rep.SignCeilingRPS)
		}
		rep.Workloads[w.name] = r
	}
	rep.MaxRSSMB = maxRSSMB()
	return rep
}

// workers is how many workers w runs with: the password workload's are
// at most the password logins the broker admits at once, so that it
// measures the hash-bound rate rather than the gate's cheap 503s.
func (b *benchEnv) workers(w workload, concurrency int) int {
	if w.name == "password" {
		return min(concurrency, b.limits.Capacity())
	}
	return concurrency
}

func round3(f float64) float64 { return float64(int(f*1000+0.5)) / 1000 }

func printBench(w io.Writer, rep *benchReport) {
	fmt.Fprintf(w, "oauth2broker bench: %d CPUs (%s), concurrency %d, %.0fs per workload\n\n", rep.CPUs, rep.CPUModel, rep.Concurrency, rep.DurationS)
	fmt.Fprintf(w, "%-20s %10s %8s %8s %7s %7s %7s\n", "workload", "req/s", "p50 ms", "p99 ms", "ratio", "sign", "errors")
	fmt.Fprintf(w, "%-20s %10.0f\n%-20s %10.0f\n", "ceiling", rep.CeilingRPS, "sign_ceiling", rep.SignCeilingRPS)
	for _, wl := range benchWorkloads {
		r, ok := rep.Workloads[wl.name]
		if !ok {
			continue
		}
		sign := "-"
		if r.SignRatio > 0 {
			sign = fmt.Sprintf("%.3f", r.SignRatio)
		}
		fmt.Fprintf(w, "%-20s %10.0f %8.2f %8.2f %7.3f %7s %7d\n", wl.name, r.RPS, r.P50ms, r.P99ms, r.Ratio, sign, r.Errors)
	}
	fmt.Fprintf(w, "\nmax RSS %.0f MB\n", rep.MaxRSSMB)
	if rep.Flood != nil {
		printFlood(w, rep.Flood)
	}
	if rep.SeededConnections > 0 {
		fmt.Fprintf(w, "seeded %d connections in %.1f s; the store then opened in %.1f ms\n", rep.SeededConnections, rep.SeedSeconds, rep.StoreOpenMS)
	}
}

// cpuModel reads the CPU model from /proc/cpuinfo (Linux).
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// maxRSSMB is the process's peak resident set (VmHWM), in MB.
func maxRSSMB() float64 {
	kb, _ := procStatusKB("self", "VmHWM:")
	return kb / 1024
}
