package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"time"
)

// driveRaw is drive without http.Client: each worker keeps one TCP
// connection, writes each request with http.Request.Write and reads the
// answer with http.ReadResponse, as wrk does with its own parser. It
// costs the load generator about half the CPU of drive per request, so
// on a small machine more of the CPU goes to the server under test.
func driveRaw(ctx context.Context, concurrency int, d time.Duration, next newRequest) loadResult {
	// The run's deadline is also each worker's connection's.
	return runWorkers(ctx, concurrency, d, func(ctx context.Context, w int, lat *[]time.Duration, errs *int) {
		rawWorker(ctx, w, next, lat, errs)
	})
}

// rawWorker sends requests on one connection until ctx ends, dialling
// again when the server closes it or a request fails.
func rawWorker(ctx context.Context, w int, next newRequest, lat *[]time.Duration, errs *int) {
	var conn net.Conn
	var br *bufio.Reader
	var bw *bufio.Writer
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	// The connection's deadline is the run's: a call cut by it, or by
	// ctx, is the run's end, not an error.
	dl, _ := ctx.Deadline()
	over := func() bool { return ctx.Err() != nil || !time.Now().Before(dl) }
	for !over() {
		req := next(w)
		if conn == nil {
			c, err := (&net.Dialer{}).DialContext(ctx, "tcp", req.URL.Host)
			if err != nil {
				*errs += countErr(over)
				continue
			}
			_ = c.SetDeadline(dl)
			conn, br, bw = c, bufio.NewReader(c), bufio.NewWriter(c)
		}
		t0 := time.Now()
		resp, err := roundTrip(req, br, bw, conn)
		if err != nil {
			*errs += countErr(over)
			conn.Close()
			conn = nil
			continue
		}
		*lat = append(*lat, time.Since(t0))
		if resp.StatusCode != http.StatusOK {
			*errs++
		}
		if resp.Close {
			conn.Close()
			conn = nil
		}
	}
}

// roundTrip writes req and reads its whole answer.
func roundTrip(req *http.Request, br *bufio.Reader, bw *bufio.Writer, conn net.Conn) (*http.Response, error) {
	if err := req.Write(bw); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, err
}

// countErr is 1 for a failure during the run, 0 for one caused by its end.
func countErr(over func() bool) int {
	if over() {
		return 0
	}
	return 1
}
