package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"syscall"

	"github.com/oauth2broker/oauth2broker/broker/ceiling"
)

// Paths of the net/http ceilings in the ceiling process (the in-process
// bench serves each on its own listener at /ceiling).
const (
	netCeilingPath     = "/ceiling"
	netSignCeilingPath = "/sign-ceiling"
)

// newCeilingProcess returns the handler of `oauth2broker bench ceiling`:
// both net/http ceilings, both Gin ceilings (broker/ceiling), the instant
// upstream the broker's provider and proxy call (/auth, /token, /api/…),
// and /metrics with the process's CPU seconds, so that a bench --target
// run measures the ceilings' CPU per request as it does the broker's.
func newCeilingProcess() (http.Handler, error) {
	bare, err := newCeiling(false)
	if err != nil {
		return nil, err
	}
	sign, err := newCeiling(true)
	if err != nil {
		return nil, err
	}
	g, err := ceiling.New(ceilingBody)
	if err != nil {
		return nil, err
	}
	up := &instantUpstream{}
	mux := http.NewServeMux()
	mux.Handle("POST "+netCeilingPath, bare)
	mux.Handle("POST "+netSignCeilingPath, rewrite(sign, netCeilingPath))
	mux.Handle("/gin/", g)
	mux.Handle("/", up)
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %g\n", selfCPUSeconds())
	})
	return mux, nil
}

// rewrite serves h as if the request's path were path.
func rewrite(h http.Handler, path string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = path
		h.ServeHTTP(w, r)
	})
}

// selfCPUSeconds is the user and system CPU time of this process.
func selfCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// benchCeilingCmd is `oauth2broker bench ceiling --listen ADDR`: it serves
// newCeilingProcess until ctx ends.
func benchCeilingCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench ceiling", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:9090", "address to serve the ceilings and the instant upstream on")
	pprofAddr := fs.String("debug-pprof-addr", "", "serve the Go profiler on this loopback address (default off)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if *pprofAddr != "" {
		_, stop, err := servePprof(*pprofAddr, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	tuneGC(os.LookupEnv) // the collector settings of serve, so that the ratios compare like with like
	h, err := newCeilingProcess()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Fprintf(stdout, "ceilings and instant upstream on http://%s\n", ln.Addr())
	return runHTTP(ctx, ln, h, log)
}
