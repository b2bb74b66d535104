package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// A --target run against a broker and a ceiling process it did not start
// provisions its own API over the admin API, measures every work in
// every round, and its counts agree with the server's: the broker counted
// at least every answer the load generator read, and at most those plus
// the requests cut at the deadline and the metrics scrape.
func TestBenchTarget(t *testing.T) {
	for _, d := range []string{"raw", "client"} {
		t.Run(d, func(t *testing.T) { testBenchTarget(t, d) })
	}
}

func testBenchTarget(t *testing.T, driver string) {
	ctx := context.Background()
	const conc, rounds = 4, 2
	b, err := startBench(ctx, t.TempDir(), conc, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	h, err := newCeilingProcess()
	if err != nil {
		t.Fatal(err)
	}
	ceil := httptest.NewServer(h)
	defer ceil.Close()
	o := targetOptions{target: b.broker, ceiling: ceil.URL, adminToken: benchAdminToken, concurrency: conc,
		duration: 200 * time.Millisecond, rounds: rounds, connections: 3, driver: driver}
	rep, err := benchTarget(ctx, o, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range targetWorks {
		r, ok := rep.Works[w.name]
		if !ok || len(r.Runs) != rounds {
			t.Errorf("%s: got %d runs, want %d", w.name, len(r.Runs), rounds)
			continue
		}
		for i, run := range r.Runs {
			if run.Requests == 0 || run.Errors != 0 || run.CPUus <= 0 {
				t.Errorf("%s round %d: got %d answers, %d errors, %.1f µs CPU; want answers, no error, CPU", w.name, i, run.Requests, run.Errors, run.CPUus)
			}
			if !w.onCeil && (run.ServerRequests < run.Requests || run.ServerRequests > run.Requests+conc+1) {
				t.Errorf("%s round %d: the broker counted %d requests, the load generator %d answers", w.name, i, run.ServerRequests, run.Requests)
			}
		}
		if (w.versus != "") != (r.Ratio > 0 && r.CPURatio > 0) || r.Versus != w.versus {
			t.Errorf("%s: got ratio %v and CPU ratio %v against %q, want them against %q", w.name, r.Ratio, r.CPURatio, r.Versus, w.versus)
		}
	}
	stored, err := b.store.ListConnections(ctx, rep.API, storage.ConnectionFilter{})
	if err != nil || len(stored) != conc+1+3 || rep.StoredConnections != len(stored) {
		t.Errorf("got %d connections stored (%v), %d reported; want %d", len(stored), err, rep.StoredConnections, conc+4)
	}
	if rep.PeakRSSMB <= 0 {
		t.Errorf("got peak RSS %.0f MB", rep.PeakRSSMB)
	}
	var out bytes.Buffer
	printTarget(&out, rep)
	for _, w := range targetWorks {
		if !strings.Contains(out.String(), w.name+" ") {
			t.Errorf("the table has no row %s:\n%s", w.name, out.String())
		}
	}
}
