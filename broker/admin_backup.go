package broker

import (
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
)

// backuper is a store that can write a consistent copy of itself while it
// serves (the bbolt backend).
type backuper interface {
	WriteTo(w io.Writer) (int64, error)
}

// backup streams a consistent copy of the store. Secrets in it stay
// sealed: keep the encryption key to restore it.
func (s *Server) backup(c *gin.Context) {
	b, ok := s.store.(backuper)
	if !ok {
		fail(c, protocol.ErrInvalidRequest.WithStatus(http.StatusNotImplemented).
			WithDescription("this store has no online backup here; back up etcd with etcdctl snapshot save"))
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="oauth2broker.db"`)
	h.Set("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	n, err := b.WriteTo(c.Writer)
	if err != nil {
		// The status is sent: the client sees a short file, and the log
		// says why.
		s.logger(c).Error("backup failed", "bytes", n, "err", err)
		return
	}
	s.logger(c).Info("backup written", "bytes", n)
}
