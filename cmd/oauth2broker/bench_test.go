package main

import (
	"context"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/grants"
)

// The password workload measures password logins, not the 503s the
// broker answers at once past its hashing queue.
func TestBenchPasswordWorkload(t *testing.T) {
	ctx := context.Background()
	b, err := startBench(ctx, t.TempDir(), 8, func(b *benchEnv) { b.limits = grants.PasswordLimits{Hashers: 1, Queue: 1} })
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	r := runBench(ctx, b, 8, 300*time.Millisecond, "password").Workloads["password"]
	if r.Requests == 0 || r.Errors != 0 {
		t.Errorf("password workload with 8 workers and room for 2 logins: got %d answers, %d not 200; want all 200", r.Requests, r.Errors)
	}
}
