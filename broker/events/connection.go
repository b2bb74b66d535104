package events

import (
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// ConnectionView is a connection as webhook payloads, admin answers and
// client answers show it: never its tokens.
type ConnectionView struct {
	ID          string     `json:"id"`
	ClientID    string     `json:"client_id"`
	Identity    string     `json:"client_user_identity"`
	Provider    string     `json:"provider"`
	Status      string     `json:"status"`
	Scope       string     `json:"scope"`
	CreatedAt   time.Time  `json:"created_at"`
	RefreshedAt *time.Time `json:"refreshed_at"`
	LastError   string     `json:"last_error"`
}

// ViewConnection is c as shown outside the broker.
func ViewConnection(c storage.Connection) ConnectionView {
	v := ConnectionView{
		ID: c.ID, ClientID: c.ClientID, Identity: c.Identity, Provider: c.Provider, Status: c.Status,
		Scope: c.Scope, CreatedAt: c.CreatedAt, LastError: c.LastError,
	}
	if !c.RefreshedAt.IsZero() {
		v.RefreshedAt = &c.RefreshedAt
	}
	return v
}
