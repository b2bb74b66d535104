package admin

import (
	"net/http"
	"net/netip"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
)

// Logins is what the password grant knows of failed logins
// (grants.Dispatcher): counters in memory, per replica.
type Logins interface {
	// Throttle returns the failed logins in a row this replica counted
	// for username of api, and until when its logins are refused (zero
	// when not). With address, the per-address layer for that client
	// address; without, the per-username layer.
	Throttle(api, username, address string) (failures int, lockedUntil time.Time)
}

// throttleLayer is one layer of the login throttle in admin answers.
type throttleLayer struct {
	Failures int `json:"failures"`
	// Throttled says logins are refused until LockedUntil.
	Throttled   bool      `json:"throttled"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
	// RetryAfter is the seconds left of the lock.
	RetryAfter int `json:"retry_after,omitempty"`
}

// throttleView answers GET .../users/{id}/throttle.
type throttleView struct {
	Username string `json:"username"`
	// Scope is always "replica": the counters are this replica's memory.
	Scope string `json:"scope"`
	Note  string `json:"note"`
	// ByUsername is the per-username layer, whatever the address (not
	// applied to addresses the user logged in from lately).
	ByUsername throttleLayer `json:"by_username"`
	// Address and ByAddress: the per-address layer, when ?address= is
	// given.
	Address   string         `json:"address,omitempty"`
	ByAddress *throttleLayer `json:"by_address,omitempty"`
}

const throttleNote = "failed logins are counted in the memory of each replica; this is what the replica that answered knows"

// userThrottle answers whether a username's password logins are being
// throttled, as this replica knows it (GET .../users/{id}/throttle
// [?address=IP]). Any username may be asked: the throttle counts
// failures for usernames that do not exist too.
func (s *API) userThrottle(c *gin.Context) {
	if s.logins == nil {
		fail(c, protocol.ErrInvalidRequest.WithStatus(http.StatusNotImplemented).WithDescription("the password grant is off here"))
		return
	}
	api, user := currentAPI(c).Name, c.Param("id")
	v := throttleView{Username: user, Scope: "replica", Note: throttleNote, ByUsername: s.layer(api, user, "")}
	if addr := c.Query("address"); addr != "" {
		if _, err := netip.ParseAddr(addr); err != nil {
			fail(c, protocol.ErrInvalidRequest.WithDescription("address must be an IP address"))
			return
		}
		l := s.layer(api, user, addr)
		v.Address, v.ByAddress = addr, &l
	}
	protocol.WriteJSON(c.Writer, http.StatusOK, v)
}

func (s *API) layer(api, user, addr string) throttleLayer {
	n, until := s.logins.Throttle(api, user, addr)
	l := throttleLayer{Failures: n}
	if left := until.Sub(s.now()); left > 0 {
		l.Throttled, l.LockedUntil, l.RetryAfter = true, until.UTC(), int((left+time.Second-1)/time.Second)
	}
	return l
}
