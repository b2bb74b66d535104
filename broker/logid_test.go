package broker

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// The request id from the context is added once, and not when the line
// or the logger already names it.
func TestRequestIDHandlerAddsTheIDOnce(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(requestIDHandler{Handler: slog.NewTextHandler(&buf, nil)})
	ctx := context.WithValue(context.Background(), requestIDKey{}, "rid-7")
	cases := map[string]func(){
		"from the context":     func() { log.InfoContext(ctx, "m") },
		"named by the call":    func() { log.InfoContext(ctx, "m", "request_id", "rid-7") },
		"named by the logger":  func() { log.With("request_id", "rid-7").InfoContext(ctx, "m") },
		"logger with a group":  func() { log.With("request_id", "rid-7").WithGroup("g").InfoContext(ctx, "m", "k", "v") },
		"no id in the context": func() { log.InfoContext(context.Background(), "m", "request_id", "rid-7") },
	}
	for name, logLine := range cases {
		buf.Reset()
		logLine()
		if n := strings.Count(buf.String(), "request_id=rid-7"); n != 1 {
			t.Errorf("%s: %q names the request id %d times, want once", name, buf.String(), n)
		}
	}
}
