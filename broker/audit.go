package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

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
	if err := s.store.CreateAuditEvent(ctx, e); err != nil {
		s.log.Error("audit event not stored", "api", api, "action", action, "err", err)
	}
}

// adminAudit records a successful admin call on the current API.
func (s *Server) adminAudit(c *gin.Context, action, target string) {
	s.audit(c, currentAPI(c).Name, "admin", action, target, nil)
}

// listAudit answers the API's audit trail, oldest first.
func (s *Server) listAudit(c *gin.Context) {
	events, err := s.store.ListAuditEvents(c, currentAPI(c).Name)
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, gin.H{"events": nonNil(events)})
}
