package grants

import (
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := newThrottle(func() time.Time { return now })
	for i := 0; i < freeFailures-1; i++ {
		th.fail("u")
		if w := th.wait("u"); w != 0 {
			t.Fatalf("after %d failures: got wait %v, want 0", i+1, w)
		}
	}
	th.fail("u")
	if w := th.wait("u"); w != baseDelay {
		t.Fatalf("after %d failures: got wait %v, want %v", freeFailures, w, baseDelay)
	}
	if w := th.wait("v"); w != 0 {
		t.Fatalf("another username: got wait %v, want 0", w)
	}
	for i := 0; i < 40; i++ {
		th.fail("u")
	}
	if w := th.wait("u"); w != maxDelay {
		t.Fatalf("after many failures: got wait %v, want the cap %v", w, maxDelay)
	}
	now = now.Add(maxDelay)
	if w := th.wait("u"); w != 0 {
		t.Fatalf("after the cap elapsed: got wait %v, want 0 (no permanent lockout)", w)
	}
	th.succeed("u")
	th.fail("u")
	if w := th.wait("u"); w != 0 {
		t.Fatalf("one failure after a success: got wait %v, want 0", w)
	}
}

func TestScopeHelpers(t *testing.T) {
	if got := parseScope(" a  b a "); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("parseScope: got %q, want [a b]", got)
	}
	if parseScope("") != nil {
		t.Errorf("parseScope(\"\"): want nil")
	}
	if !subset([]string{"a"}, []string{"a", "b"}) || subset([]string{"c"}, []string{"a"}) {
		t.Errorf("subset: wrong answer")
	}
	if got := intersect([]string{"a", "b", "c"}, []string{"c", "a"}); joinScope(got) != "a c" {
		t.Errorf("intersect: got %q, want \"a c\"", got)
	}
}
