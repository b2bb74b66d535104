package etcd

import (
	"context"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/oauth2broker/oauth2broker/storage"
)

var (
	_ storage.Watcher = (*DB)(nil)
	_ storage.Elector = (*DB)(nil)
)

// watchRetry is the pause before a cut watch is opened again.
const watchRetry = 500 * time.Millisecond

// Watch reports every change to the records of kinds, from one watch per
// kind on its key prefix. The watches require a leader, so on a member cut
// off from the quorum they end instead of going silent; they are opened
// again after a pause and resume at the revision each had reached, so
// changes made meanwhile (by a quorum on the other side of a partition)
// are still heard, once the member is back. Idle watches ask for progress
// notifications, so their revision moves on too. Only when a revision to
// resume from was compacted away are changes lost: fn then hears an empty
// Change, and the watch resumes at the oldest revision etcd still has.
func (d *DB) Watch(ctx context.Context, kinds []string, fn func(storage.Change)) error {
	next := make(map[string]int64, len(kinds)) // by prefix: the next revision to hear; 0: from now
	for _, k := range kinds {
		next[d.prefix+k+"/"] = 0
	}
	for {
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		merged := make(chan heard)
		for p, rev := range next {
			opts := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithCreatedNotify(), clientv3.WithProgressNotify()}
			if rev > 0 {
				opts = append(opts, clientv3.WithRev(rev))
			}
			go forward(wctx, p, d.client.Watch(wctx, p, opts...), merged)
		}
		compacted := d.hear(wctx, merged, next, fn)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if compacted {
			fn(storage.Change{}) // changes were lost: drop everything
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(watchRetry):
		}
	}
}

// heard is one response of the watch on prefix; ended says the watch
// ended without one.
type heard struct {
	prefix string
	resp   clientv3.WatchResponse
	ended  bool
}

// forward copies one watch's responses to merged, and says when the
// watch ends.
func forward(ctx context.Context, prefix string, in clientv3.WatchChan, merged chan<- heard) {
	for resp := range in {
		select {
		case merged <- heard{prefix: prefix, resp: resp}:
		case <-ctx.Done():
			return
		}
	}
	select {
	case merged <- heard{prefix: prefix, ended: true}:
	case <-ctx.Done():
	}
}

// hear calls fn for the events of merged, and moves next on, until one
// watch ends or fails. It reports whether a watch fell behind a
// compaction (its next is then the oldest revision left).
func (d *DB) hear(ctx context.Context, merged <-chan heard, next map[string]int64, fn func(storage.Change)) (compacted bool) {
	for {
		var h heard
		select {
		case <-ctx.Done():
			return false
		case h = <-merged:
		}
		if h.resp.CompactRevision > 0 {
			next[h.prefix] = h.resp.CompactRevision
			return true
		}
		if h.ended || h.resp.Canceled || h.resp.Err() != nil {
			return false
		}
		for _, ev := range h.resp.Events {
			if c, ok := d.change(string(ev.Kv.Key), h.prefix); ok {
				fn(c)
			}
		}
		switch {
		case len(h.resp.Events) > 0:
			next[h.prefix] = h.resp.Events[len(h.resp.Events)-1].Kv.ModRevision + 1
		case h.resp.Created && next[h.prefix] == 0, h.resp.IsProgressNotify():
			// A watch from now, or one that caught up: nothing up to the
			// header's revision is pending. (A resumed watch's creation
			// comes before the events it catches up on.)
			next[h.prefix] = max(next[h.prefix], h.resp.Header.Revision+1)
		}
	}
}

// change parses a record key under prefix into the Change it names.
func (d *DB) change(key, prefix string) (storage.Change, bool) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return storage.Change{}, false
	}
	kind := strings.TrimSuffix(strings.TrimPrefix(prefix, d.prefix), "/")
	if kind == typeAPIs {
		return storage.Change{Kind: kind, API: rest}, true
	}
	api, id, ok := strings.Cut(rest, sep)
	return storage.Change{Kind: kind, API: api, ID: id}, ok
}

// electionTTL bounds how long a leader that died keeps its leadership.
const electionTTL = 10 // seconds

// Lead campaigns in the election name under the prefix, with a session
// whose lease expires electionTTL seconds after this process stops
// renewing it: a leader that dies is replaced within that time.
func (d *DB) Lead(ctx context.Context, name string) (context.Context, func(), error) {
	session, err := concurrency.NewSession(d.client, concurrency.WithTTL(electionTTL), concurrency.WithContext(ctx))
	if err != nil {
		return nil, nil, fmt.Errorf("etcd: election %s: %w", name, err)
	}
	e := concurrency.NewElection(session, d.prefix+"elections/"+name)
	if err := e.Campaign(ctx, fmt.Sprintf("lease-%x", session.Lease())); err != nil {
		_ = session.Close()
		return nil, nil, fmt.Errorf("etcd: election %s: %w", name, err)
	}
	lead, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-session.Done(): // the lease expired or was revoked
			cancel()
		case <-lead.Done():
		}
	}()
	resign := func() {
		cancel()
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), d.timeout)
		defer rcancel()
		_ = e.Resign(rctx)
		_ = session.Close() // revokes the lease
	}
	return lead, resign, nil
}
