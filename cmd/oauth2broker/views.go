package main

import (
	"time"

	"github.com/oauth2broker/oauth2broker/broker/events"
	"github.com/oauth2broker/oauth2broker/providers"
)

// The admin API's answers, as the CLI reads them. Unknown members are
// ignored, so a newer server still works.

type apiOut struct {
	Name               string    `json:"name"`
	Issuer             string    `json:"issuer"`
	Tenants            []string  `json:"tenants"`
	AccessTokenTTL     string    `json:"access_token_ttl"`
	TokenPaths         []string  `json:"token_paths"`
	SigningAlg         string    `json:"signing_alg"`
	Audience           string    `json:"audience"`
	DefaultClient      string    `json:"default_client"`
	ExposeRefreshToken bool      `json:"expose_refresh_token"`
	CreatedAt          time.Time `json:"created_at"`
	// RefreshTokenMaxLifetime is a Go duration.
	RefreshTokenMaxLifetime string `json:"refresh_token_max_lifetime"`
}

type clientOut struct {
	ClientID       string    `json:"client_id"`
	ClientSecret   string    `json:"client_secret"`
	Name           string    `json:"name"`
	GrantTypes     []string  `json:"grant_types"`
	Scopes         []string  `json:"scopes"`
	AccessTokenTTL string    `json:"access_token_ttl"`
	ReturnURLs     []string  `json:"return_urls"`
	CreatedAt      time.Time `json:"created_at"`
}

type userOut struct {
	Username  string    `json:"username"`
	Scopes    []string  `json:"scopes"`
	CreatedAt time.Time `json:"created_at"`
}

// providerOut is the provider's view, every setting: the type the
// server renders.
type providerOut = providers.View

type keyOut struct {
	ID        string     `json:"kid"`
	Alg       string     `json:"alg"`
	CreatedAt time.Time  `json:"created_at"`
	RetiredAt *time.Time `json:"retired_at"`
	RemoveAt  *time.Time `json:"remove_at"`
}

// connectionOut is a connection as the admin API answers it.
type connectionOut = events.ConnectionView

// The admin API answers collections as {"<key>": [...]}.
type (
	apisOut struct {
		APIs []apiOut `json:"apis"`
	}
	clientsOut struct {
		Clients []clientOut `json:"clients"`
	}
	usersOut struct {
		Users []userOut `json:"users"`
	}
	providersOut struct {
		Providers []providerOut `json:"providers"`
	}
	keysOut struct {
		Keys []keyOut `json:"keys"`
	}
	connectionsOut struct {
		Connections []connectionOut `json:"connections"`
	}
)
