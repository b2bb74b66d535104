package events

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// DefaultAuditRetention is how long audit events are kept by default.
const DefaultAuditRetention = 90 * 24 * time.Hour

// Pages of the audit trail.
const (
	DefaultAuditPage = 1000
	MaxAuditPage     = 10000
)

// audit records e in its API's audit trail. A failure to record is
// logged, not answered: the change itself has happened.
func (s *Stream) audit(ctx context.Context, e Event) {
	now := s.now().UTC()
	rec := storage.AuditEvent{
		API: e.API, ID: newID(now),
		Actor: e.Actor, Action: e.Type, Target: e.Target, Details: e.Details, CreatedAt: now,
	}
	if s.auditTTL > 0 {
		rec.ExpiresAt = now.Add(s.auditTTL)
	}
	if err := s.store.CreateAuditEvent(ctx, rec); err != nil {
		s.log.Error("audit event not stored", "api", e.API, "action", e.Type, "err", err)
	}
}

// ListAudit returns a page of api's audit trail, oldest first: at most
// limit events after the one with id after (from the start when empty);
// next is the after of the next page, empty when there is none.
func (s *Stream) ListAudit(ctx context.Context, api, after string, limit int) (page []storage.AuditEvent, next string, err error) {
	events, err := s.store.ListAuditEvents(ctx, api)
	if err != nil {
		return nil, "", err
	}
	if after != "" {
		i, _ := slices.BinarySearchFunc(events, after, func(e storage.AuditEvent, id string) int { return strings.Compare(e.ID, id) })
		if i < len(events) && events[i].ID == after {
			i++
		}
		events = events[i:]
	}
	if len(events) > limit {
		events = events[:limit]
		next = events[limit-1].ID
	}
	return events, next, nil
}
