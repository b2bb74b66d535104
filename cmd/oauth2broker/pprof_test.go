package main

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"testing"
)

// The profiler is served on its own loopback listener, and only there.
func TestServePprof(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	addr, stop, err := servePprof("127.0.0.1:0", log)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	resp, err := http.Get("http://" + addr.String() + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("goroutine profile: got %d, want 200", resp.StatusCode)
	}
	for _, bad := range []string{"0.0.0.0:0", ":0", "192.0.2.1:6060", "nonsense"} {
		var ue *usageError
		if _, stop, err := servePprof(bad, log); !errors.As(err, &ue) {
			if stop != nil {
				stop()
			}
			t.Errorf("servePprof(%q): got %v, want a usage error", bad, err)
		}
	}
}
