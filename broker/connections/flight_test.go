package connections

import (
	"context"
	"testing"
	"time"
)

// A run started with alone is never joined and never runs beside another
// run of its key: it waits for the shared run in progress, and a caller
// of do arriving meanwhile waits for it, then runs its own.
func TestFlightAlone(t *testing.T) {
	var f flight
	f.calls = map[string]*call{}
	ctx := context.Background()
	release := make(chan struct{})
	running := make(chan string, 3)
	shared := func(name string) func() (*Result, error) {
		return func() (*Result, error) {
			running <- name
			<-release
			return &Result{Tokens: nil}, nil
		}
	}
	go f.do(ctx, "k", shared("refresh"))
	if got := <-running; got != "refresh" {
		t.Fatalf("first run: %s", got)
	}
	aloneDone := make(chan struct{})
	go func() {
		_, _ = f.alone(ctx, "k", func() (*Result, error) { running <- "reseal"; <-release; return nil, nil })
		close(aloneDone)
	}()
	select {
	case got := <-running:
		t.Fatalf("%s ran beside the refresh", got)
	case <-time.After(50 * time.Millisecond):
	}
	release <- struct{}{} // the refresh ends
	if got := <-running; got != "reseal" {
		t.Fatalf("after the refresh: %s ran, want the reseal", got)
	}
	joined := make(chan *Result, 1)
	go func() {
		res, _ := f.do(ctx, "k", shared("second refresh"))
		joined <- res
	}()
	select {
	case got := <-running:
		t.Fatalf("%s ran beside the reseal", got)
	case res := <-joined:
		t.Fatalf("a do caller joined the reseal and got %v", res)
	case <-time.After(50 * time.Millisecond):
	}
	release <- struct{}{} // the reseal ends
	<-aloneDone
	if got := <-running; got != "second refresh" {
		t.Fatalf("after the reseal: %s ran, want the second refresh", got)
	}
	release <- struct{}{}
	if res := <-joined; res == nil {
		t.Error("the second refresh's caller got no result of its own")
	}
	f.wait()
}
