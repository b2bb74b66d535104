package admin

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
)

// backup streams a consistent copy of the store. Secrets in it stay
// sealed: keep the encryption key to restore it.
func (s *API) backup(c *gin.Context) {
	b := s.backuper
	if b == nil {
		fail(c, protocol.ErrInvalidRequest.WithStatus(http.StatusNotImplemented).
			WithDescription("this store has no online backup here; back up etcd with etcdctl snapshot save"))
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="oauth2broker.db"`)
	h.Set("Cache-Control", "no-store")
	n, err := b.Backup(c.Writer, func(size int64) {
		// The length lets the reader tell a cut copy from a whole one.
		h.Set("Content-Length", strconv.FormatInt(size, 10))
		c.Status(http.StatusOK)
	})
	if err != nil {
		s.logger(c).Error("backup failed", "bytes", n, "err", err)
		if !c.Writer.Written() {
			h.Del("Content-Length")
			h.Del("Content-Disposition")
			fail(c, protocol.ErrServerError.WithDescription("the backup could not be read from the store"))
		}
		// Otherwise the status is sent: the client sees fewer bytes than
		// the Content-Length, and the log says why.
		return
	}
	s.logger(c).Info("backup written", "bytes", n)
}
