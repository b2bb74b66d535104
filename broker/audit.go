package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/storage"
)

// audit records an administrative change or a connection event. details
// never hold secrets. A failure to record is logged, not answered: the
// change itself has happened.
func (s *Server) audit(ctx context.Context, api, actor, action, target string, details map[string]string) {
	now := s.now().UTC()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	e := storage.AuditEvent{
		API: api, ID: fmt.Sprintf("%013x-%s", now.UnixMilli(), hex.EncodeToString(b)),
		Actor: actor, Action: action, Target: target, Details: details, CreatedAt: now,
	}
	if s.auditTTL > 0 {
		e.ExpiresAt = now.Add(s.auditTTL)
	}
	if err := s.store.CreateAuditEvent(ctx, e); err != nil {
		s.log.Error("audit event not stored", "api", api, "action", action, "err", err)
	}
}

// adminAudit records a successful admin call on the current API.
func (s *Server) adminAudit(c *gin.Context, action, target string) {
	s.audit(c, currentAPI(c).Name, "admin", action, target, nil)
}

// DefaultAuditRetention is how long audit events are kept by default.
const DefaultAuditRetention = 90 * 24 * time.Hour

// Pages of the audit trail.
const (
	defaultAuditPage = 1000
	maxAuditPage     = 10000
)

// listAudit answers the API's audit trail, oldest first, a page at a
// time: ?limit=N (default 1000, at most 10000) events after ?after=ID;
// "next" is the after of the next page, when there is one.
func (s *Server) listAudit(c *gin.Context) {
	limit := defaultAuditPage
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxAuditPage {
			fail(c, protocol.ErrInvalidRequest.WithDescription(fmt.Sprintf("limit must be a number from 1 to %d", maxAuditPage)))
			return
		}
		limit = n
	}
	events, err := s.store.ListAuditEvents(c.Request.Context(), currentAPI(c).Name)
	if err != nil {
		fail(c, err)
		return
	}
	if after := c.Query("after"); after != "" {
		i, _ := slices.BinarySearchFunc(events, after, func(e storage.AuditEvent, id string) int { return strings.Compare(e.ID, id) })
		if i < len(events) && events[i].ID == after {
			i++
		}
		events = events[i:]
	}
	body := gin.H{}
	if len(events) > limit {
		events = events[:limit]
		body["next"] = events[limit-1].ID
	}
	body["events"] = nonNil(events)
	writeJSON(c, http.StatusOK, body)
}
