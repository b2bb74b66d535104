package mcp

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oauth2broker/oauth2broker/outbound"
)

// Bounds of the metadata cache.
const (
	// DefaultMaxAge keeps metadata whose answers carry no max-age.
	DefaultMaxAge = time.Hour
	// MinMaxAge and MaxMaxAge clamp an answer's max-age: no-cache and
	// max-age=0 do not make every open fetch again, and no answer is kept
	// for more than a day.
	MinMaxAge = time.Minute
	MaxMaxAge = 24 * time.Hour
	// DefaultTimeout bounds each discovery call when the client has none.
	DefaultTimeout = 15 * time.Second
)

// Discoverer finds and caches MCP servers' metadata: protected resource
// metadata (RFC 9728) and their authorization servers' (RFC 8414), each
// kept as long as its answers' Cache-Control max-age says. Concurrent
// discoveries of one server share one fetch. It is safe for concurrent
// use; one Discoverer serves every MCP provider of a broker.
type Discoverer struct {
	// get follows same-origin redirects of credential-less GETs; post
	// (the probe) follows none. Both bound every answer.
	get, post *http.Client
	now       func() time.Time
	mu        sync.Mutex
	cache     map[string]*Metadata
	inflight  map[string]*fetch
}

// fetch is one discovery in flight; waiters read md and err after done.
type fetch struct {
	done chan struct{}
	md   *Metadata
	err  error
}

// NewDiscoverer returns a Discoverer making its calls with client (one
// with DefaultTimeout when nil) and reading the time from now (time.Now
// when nil).
func NewDiscoverer(client *http.Client, now func() time.Time) *Discoverer {
	if now == nil {
		now = time.Now
	}
	return &Discoverer{
		get:   outbound.Guard(client, DefaultTimeout, outbound.SameOriginGET),
		post:  outbound.Guard(client, DefaultTimeout, outbound.NoRedirect),
		now:   now,
		cache: map[string]*Metadata{}, inflight: map[string]*fetch{},
	}
}

// Discover returns serverURL's metadata, from the cache while it is
// fresh. A failed discovery is not cached.
func (d *Discoverer) Discover(ctx context.Context, serverURL string) (*Metadata, error) {
	d.mu.Lock()
	if md, ok := d.cache[serverURL]; ok && d.now().Before(md.Expires) {
		d.mu.Unlock()
		return md, nil
	}
	f, running := d.inflight[serverURL]
	if !running {
		f = &fetch{done: make(chan struct{})}
		d.inflight[serverURL] = f
		go d.run(context.WithoutCancel(ctx), serverURL, f)
	}
	d.mu.Unlock()
	select {
	case <-f.done:
		return f.md, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run makes one discovery for every waiter, bounded by the clients'
// timeouts.
func (d *Discoverer) run(ctx context.Context, serverURL string, f *fetch) {
	ctx, cancel := context.WithTimeout(ctx, 4*DefaultTimeout)
	defer cancel()
	f.md, f.err = d.discover(ctx, serverURL)
	if f.err != nil {
		f.err = clipped{f.err}
	}
	d.mu.Lock()
	delete(d.inflight, serverURL)
	if f.err == nil {
		d.cache[serverURL] = f.md
	}
	d.mu.Unlock()
	close(f.done)
}

// maxAge reads a Cache-Control header's max-age (RFC 9111 §5.2.2.1),
// clamped to [MinMaxAge, MaxMaxAge]; DefaultMaxAge when there is none,
// MinMaxAge for no-store and no-cache.
func maxAge(cc string) time.Duration {
	age := DefaultMaxAge
	for _, d := range strings.Split(cc, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return MinMaxAge
		case "max-age":
			if n, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64); err == nil && n >= 0 {
				age = time.Duration(min(n, int64(MaxMaxAge/time.Second))) * time.Second
			}
		}
	}
	return min(max(age, MinMaxAge), MaxMaxAge)
}

// maxErrorText bounds the text of a discovery error, which quotes what
// the server answered (a metadata URL, a resource, an issuer) and is
// logged: a server cannot fill the log with a megabyte each time.
const maxErrorText = 512

// clipped is an error whose text is cut at maxErrorText; errors.Is and
// errors.As see the error it holds.
type clipped struct{ err error }

func (c clipped) Error() string { return clip(c.err.Error()) }

// clip cuts s at maxErrorText.
func clip(s string) string {
	if len(s) <= maxErrorText {
		return s
	}
	return strings.ToValidUTF8(s[:maxErrorText], "") + "…"
}

func (c clipped) Unwrap() error { return c.err }
