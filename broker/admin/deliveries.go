package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/events"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
)

// listDeliveries answers a client's webhook events, newest first
// (GET .../clients/{id}/webhook-events): pending with the next attempt,
// delivered, or failed (given up), with attempts, last status code and
// last error; never the payload. ?status= filters, ?limit=N (default
// and at most events.MaxDeliveryPage) events before ?before=ID; "next"
// is the before of the next page.
func (s *API) listDeliveries(c *gin.Context) {
	a := currentAPI(c)
	if _, err := s.store.GetClient(c, a.Name, c.Param("id")); err != nil {
		fail(c, storeError(err, "client"))
		return
	}
	limit, ok := pageLimit(c, events.MaxDeliveryPage, events.MaxDeliveryPage)
	if !ok {
		return
	}
	status := c.Query("status")
	switch status {
	case "", events.DeliveryPending, events.DeliveryDelivered, events.DeliveryFailed:
	default:
		fail(c, protocol.ErrInvalidRequest.WithDescription("status must be pending, delivered or failed"))
		return
	}
	page, next, err := s.events.ListDeliveries(c.Request.Context(), a.Name, c.Param("id"), status, c.Query("before"), limit)
	if err != nil {
		fail(c, err)
		return
	}
	body := gin.H{"webhook_events": nonNil(page)}
	if next != "" {
		body["next"] = next
	}
	protocol.WriteJSON(c.Writer, http.StatusOK, body)
}

// retryDelivery makes a pending or failed webhook event due now
// (POST .../clients/{id}/webhook-events/{event}/retry) and answers it.
// A delivered event, or one a replica is delivering, is a 409.
func (s *API) retryDelivery(c *gin.Context) {
	v, err := s.events.RetryNow(c.Request.Context(), currentAPI(c).Name, c.Param("id"), c.Param("event"))
	switch {
	case errors.Is(err, events.ErrDelivered):
		err = protocol.ErrConflict.WithDescription("the webhook event was delivered; there is nothing to retry")
	case errors.Is(err, events.ErrInFlight):
		err = protocol.ErrConflict.WithDescription("the webhook event is being delivered right now")
	case err != nil:
		err = storeError(err, "webhook event")
	}
	if err != nil {
		fail(c, err)
		return
	}
	s.adminAudit(c, "webhook.retried", v.ID)
	protocol.WriteJSON(c.Writer, http.StatusOK, v)
}

// pageLimit reads ?limit=, def when absent; a value outside 1..most is
// answered 400 and ok is false.
func pageLimit(c *gin.Context, def, most int) (limit int, ok bool) {
	v := c.Query("limit")
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		fail(c, protocol.ErrInvalidRequest.WithDescription(fmt.Sprintf("limit must be a number from 1 to %d", most)))
		return 0, false
	}
	return n, true
}
