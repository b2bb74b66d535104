package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
)

// turns is an Elector that grants the lead at once, counts campaigns and
// resignations, and ends the parent context after the last grant.
type turns struct {
	mu       sync.Mutex
	grants   int
	resigned int
	stop     context.CancelFunc
}

func (e *turns) Lead(ctx context.Context, name string) (context.Context, func(), error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.grants++
	if e.grants == 2 {
		e.stop() // the second term ends with the replica
	}
	lead, cancel := context.WithCancel(ctx)
	return lead, func() { cancel(); e.mu.Lock(); e.resigned++; e.mu.Unlock() }, nil
}

func TestLeaderCampaignsAgainAfterLosingTheLead(t *testing.T) {
	ctx, stop := context.WithCancel(t.Context())
	e := &turns{stop: stop}
	var news []string
	l := Leader{Elector: e, Logger: slog.New(slog.DiscardHandler),
		Leading: func(job string, on bool) { news = append(news, fmt.Sprintf("%s %v", job, on)) }}
	runs := 0
	l.Run(ctx, "gc", func(context.Context) { runs++ }) // each term ends at once: the lead is lost
	if runs != 2 || e.grants != 2 || e.resigned != 2 {
		t.Errorf("got %d runs, %d terms, %d resignations; want 2 of each", runs, e.grants, e.resigned)
	}
	if want := []string{"gc true", "gc false", "gc true", "gc false"}; !slices.Equal(news, want) {
		t.Errorf("Leading: got %v, want %v", news, want)
	}
}

func TestLeaderWithoutElectorRunsTheJob(t *testing.T) {
	var news []string
	ran := false
	Leader{Logger: slog.New(slog.DiscardHandler), Leading: func(job string, on bool) { news = append(news, fmt.Sprintf("%s %v", job, on)) }}.
		Run(t.Context(), "gc", func(context.Context) { ran = true })
	if !ran || !slices.Equal(news, []string{"gc true"}) {
		t.Errorf("got ran %v, Leading %v; want the job run and one gc true", ran, news)
	}
}

func TestSleepEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	Sleep(ctx, 1<<62) // returns at once, or the test times out
}
