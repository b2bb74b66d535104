package main

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// loadResult is what one workload measured.
type loadResult struct {
	RPS       float64 `json:"rps"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	Ratio     float64 `json:"ratio,omitempty"`
	SignRatio float64 `json:"sign_ratio,omitempty"`
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
}

// newRequest builds the request a worker sends next.
type newRequest func(worker int) *http.Request

// drive runs concurrency workers over keep-alive HTTP for d, each sending
// requests built by next and reading every answer to the end.
func drive(ctx context.Context, client *http.Client, concurrency int, d time.Duration, next newRequest) loadResult {
	return runWorkers(ctx, concurrency, d, func(ctx context.Context, w int, lat *[]time.Duration, errs *int) {
		for ctx.Err() == nil {
			req := next(w)
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				if ctx.Err() == nil {
					*errs++
				}
				continue
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			*lat = append(*lat, time.Since(t0))
			if resp.StatusCode != http.StatusOK {
				*errs++
			}
		}
	})
}

// worker sends requests until ctx ends, recording each answer's latency
// in lat and each failure or non-200 answer in errs.
type worker func(ctx context.Context, w int, lat *[]time.Duration, errs *int)

// runWorkers runs concurrency workers for d and summarizes what they
// recorded.
func runWorkers(ctx context.Context, concurrency int, d time.Duration, work worker) loadResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	lat := make([][]time.Duration, concurrency)
	errs := make([]int, concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(ctx, w, &lat[w], &errs[w])
		}()
	}
	wg.Wait()
	return summarize(lat, errs, time.Since(start))
}

func summarize(lat [][]time.Duration, errs []int, elapsed time.Duration) loadResult {
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	r := loadResult{Requests: len(all)}
	for _, e := range errs {
		r.Errors += e
	}
	if len(all) == 0 {
		return r
	}
	r.RPS = float64(len(all)) / elapsed.Seconds()
	pct := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(p*float64(len(all))))].Microseconds()) / 1000
	}
	r.P50ms, r.P99ms = pct(0.50), pct(0.99)
	return r
}
