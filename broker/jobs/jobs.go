package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// Every runs fn every d until ctx ends.
func Every(ctx context.Context, d time.Duration, fn func(context.Context)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn(ctx)
		}
	}
}

// Sleep waits for d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// ElectionRetry is the pause before campaigning again after a failed
// campaign.
const ElectionRetry = time.Second

// Leader runs jobs on one replica at a time.
type Leader struct {
	// Elector campaigns for the lead of a job; with nil (a store of one
	// process) this replica runs every job.
	Elector storage.Elector
	// Logger receives the election's news; it is required.
	Logger *slog.Logger
	// Leading, when set, is told when this replica starts (true) and
	// stops (false) running a job.
	Leading func(job string, leading bool)
}

// Run runs job until ctx ends. With an Elector this replica campaigns,
// runs job while it leads, and campaigns again when it loses the lead.
func (l Leader) Run(ctx context.Context, name string, job func(context.Context)) {
	if l.Elector == nil {
		l.leading(name, true)
		job(ctx)
		return
	}
	for ctx.Err() == nil {
		lead, resign, err := l.Elector.Lead(ctx, name)
		if err != nil {
			if ctx.Err() == nil {
				l.Logger.Warn("election failed; campaigning again", "job", name, "err", err)
				Sleep(ctx, ElectionRetry)
			}
			continue
		}
		l.Logger.Info("this replica leads", "job", name)
		l.leading(name, true)
		job(lead)
		l.leading(name, false)
		resign()
		if ctx.Err() == nil {
			l.Logger.Warn("lost the lead; campaigning again", "job", name)
		}
	}
}

func (l Leader) leading(name string, on bool) {
	if l.Leading != nil {
		l.Leading(name, on)
	}
}
