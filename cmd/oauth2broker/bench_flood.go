package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// floodOptions shape the failed-login flood that the password_flood
// workload sends beside its client_credentials load.
type floodOptions struct {
	concurrency int     // keep-alive connections
	rate        float64 // requests a second in all; 0: each as soon as the last is answered
	sources     int     // client addresses; past 1, sent as X-Forwarded-For through the loopback proxy, which the broker then trusts
}

// floodResult is what the flood saw.
type floodResult struct {
	Concurrency int            `json:"concurrency"`
	Rate        float64        `json:"rate,omitempty"`
	Sources     int            `json:"sources"`
	RPS         float64        `json:"rps"`
	P50ms       float64        `json:"p50_ms"`
	P99ms       float64        `json:"p99_ms"`
	Statuses    map[string]int `json:"statuses"` // answers by HTTP status
}

// benchFlags are the bench flags of the flood and the broker's password
// limits.
type benchFlags struct {
	flood                       floodOptions
	hashers, queue, rate, burst *string
}

func addBenchFlags(fs *flag.FlagSet) *benchFlags {
	f := &benchFlags{}
	fs.IntVar(&f.flood.concurrency, "flood-concurrency", 16, "password_flood: connections sending failed password logins")
	fs.Float64Var(&f.flood.rate, "flood-rate", 0, "password_flood: failed logins a second in all (default 0: as fast as they are answered)")
	fs.IntVar(&f.flood.sources, "flood-sources", 1, "password_flood: client addresses the failed logins come from (past 1, as X-Forwarded-For through a trusted loopback proxy)")
	f.hashers = fs.String("password-hashers", "", "the broker's --password-hashers")
	f.queue = fs.String("password-queue", "", "the broker's --password-queue")
	f.rate = fs.String("password-rate", "", "the broker's --password-rate")
	f.burst = fs.String("password-burst", "", "the broker's --password-burst")
	return f
}

// tune applies the flags to a bench environment before its broker starts.
func (f *benchFlags) tune() (func(*benchEnv), error) {
	if f.flood.concurrency < 1 || f.flood.sources < 1 || f.flood.rate < 0 {
		return nil, usagef("--flood-concurrency and --flood-sources must be positive, --flood-rate not negative")
	}
	limits, err := passwordLimits(settings{PasswordHashers: *f.hashers, PasswordQueue: *f.queue, PasswordRate: *f.rate, PasswordBurst: *f.burst})
	if err != nil {
		return nil, err
	}
	return func(b *benchEnv) {
		b.flood, b.limits = f.flood, limits
		if f.flood.sources > 1 {
			b.proxies = []string{"127.0.0.1", "::1"}
		}
	}, nil
}

// floodRequest builds failed password logins: an unknown username each
// time (each still costs a full hash), from one of the flood's sources.
func (b *benchEnv) floodRequest() newRequest {
	login := b.form("/oauth2/token", func(int) url.Values {
		return url.Values{"grant_type": {"password"}, "username": {"flood-" + strconv.Itoa(rand.IntN(1<<30))}, "password": {"wrong"}}
	})
	return func(w int) *http.Request {
		req := login(w)
		if n := b.flood.sources; n > 1 {
			i := rand.IntN(n)
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
		}
		return req
	}
}

// flood sends opts.concurrency streams of requests built by next until
// ctx ends, paced to opts.rate in all when it is set.
func flood(ctx context.Context, opts floodOptions, next newRequest) floodResult {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: opts.concurrency, DisableCompression: true}}
	defer client.CloseIdleConnections()
	var interval time.Duration
	if opts.rate > 0 {
		interval = time.Duration(float64(opts.concurrency) / opts.rate * float64(time.Second))
	}
	lat := make([][]time.Duration, opts.concurrency)
	statuses := make([]map[int]int, opts.concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range opts.concurrency {
		statuses[w] = map[int]int{}
		first := start.Add(time.Duration(w) * interval / time.Duration(opts.concurrency))
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat[w] = floodStream(ctx, client, first, interval, func() *http.Request { return next(w) }, statuses[w])
		}()
	}
	wg.Wait()
	sum := summarize(lat, make([]int, opts.concurrency), time.Since(start))
	r := floodResult{Concurrency: opts.concurrency, Rate: opts.rate, Sources: opts.sources, RPS: sum.RPS, P50ms: sum.P50ms, P99ms: sum.P99ms,
		Statuses: map[string]int{}}
	for _, m := range statuses {
		for code, n := range m {
			r.Statuses[strconv.Itoa(code)] += n
		}
	}
	return r
}

// floodStream sends requests one after the other, the first at first and
// then every interval (when positive), until ctx ends; it counts the
// answers by status and returns their latencies.
func floodStream(ctx context.Context, client *http.Client, first time.Time, interval time.Duration, next func() *http.Request, statuses map[int]int) []time.Duration {
	var lat []time.Duration
	for due := first; ctx.Err() == nil; due = due.Add(interval) {
		if interval > 0 && !sleepUntil(ctx, due) {
			break
		}
		t0 := time.Now()
		resp, err := client.Do(next().WithContext(ctx))
		if err != nil {
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(t0))
		statuses[resp.StatusCode]++
	}
	return lat
}

// sleepUntil waits until t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// driveFlooded measures the load built by next for d while the flood
// runs beside it.
func driveFlooded(ctx context.Context, b *benchEnv, concurrency int, d time.Duration, next newRequest) (loadResult, floodResult) {
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan floodResult, 1)
	go func() { done <- flood(fctx, b.flood, b.floodRequest()) }()
	r := drive(ctx, b.client, concurrency, d, next)
	cancel()
	return r, <-done
}

func printFlood(w io.Writer, f *floodResult) {
	codes := make([]string, 0, len(f.Statuses))
	for code, n := range f.Statuses {
		codes = append(codes, fmt.Sprintf("%s: %d", code, n))
	}
	slices.Sort(codes)
	fmt.Fprintf(w, "\npassword_flood: %d connections from %d addresses sent %.0f failed logins/s (p50 %.2f ms, p99 %.2f ms); answers %s\n",
		f.Concurrency, f.Sources, f.RPS, f.P50ms, f.P99ms, strings.Join(codes, ", "))
}
