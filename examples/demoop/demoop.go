// Package demoop runs a real OpenID provider in-process for demos and
// tests: the example provider shipped with github.com/zitadel/oidc/v3,
// with its in-memory users and one confidential web client. It is what
// `oauth2broker dev` connects to, and what the tests use as the upstream.
//
// It is not a production identity provider: users, keys and tokens live
// in memory and vanish with the process.
package demoop

import (
	"errors"
	"net/http"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

// Config configures New.
type Config struct {
	// Issuer is the provider's base URL, http://127.0.0.1:PORT (the
	// address it will be served at). Required.
	Issuer string
	// ClientID and ClientSecret identify the one registered client.
	ClientID     string
	ClientSecret string
	// RedirectURIs are the client's registered redirect URIs (the
	// broker's callback URLs). Required.
	RedirectURIs []string
	// Wrap, when set, wraps the example storage (to shorten token
	// lifetimes in tests).
	Wrap func(*storage.Storage) exampleop.Storage
}

// OP is a ready provider: serve Handler at Issuer.
type OP struct {
	Issuer, ClientID, ClientSecret string
	// Username and Password belong to a demo user that can log in.
	Username, Password string
	Handler            http.Handler
}

// New builds the provider. It does not listen: serve op.Handler at
// cfg.Issuer.
func New(cfg Config) (*OP, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || len(cfg.RedirectURIs) == 0 {
		return nil, errors.New("demoop: Issuer, ClientID and RedirectURIs are required")
	}
	// A private client map: storage.RegisterClients would write a
	// package-level map shared by every provider in the process.
	clients := map[string]*storage.Client{
		cfg.ClientID: storage.WebClient(cfg.ClientID, cfg.ClientSecret, cfg.RedirectURIs...),
	}
	users := storage.NewUserStore(cfg.Issuer)
	user := users.GetUserByID("id1")
	st := storage.NewStorageWithClients(users, clients)
	var opStorage exampleop.Storage = st
	if cfg.Wrap != nil {
		opStorage = cfg.Wrap(st)
	}
	// A nil logger keeps SetupServer from replacing slog's default logger.
	h := exampleop.SetupServer(cfg.Issuer, opStorage, nil, false)
	return &OP{Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		Username: user.Username, Password: user.Password, Handler: h}, nil
}
