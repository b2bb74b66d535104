package main

import (
	"fmt"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/admin"
)

// declaration maps the file's APIs onto a admin.Declaration.
func (fc *fileConfig) declaration() (admin.Declaration, error) {
	var d admin.Declaration
	seen := map[string]bool{}
	for i, a := range fc.APIs {
		if seen[a.Name] {
			return d, fmt.Errorf("config: api %q is declared twice", a.Name)
		}
		seen[a.Name] = true
		spec, err := a.spec()
		if err != nil {
			return d, fmt.Errorf("config: apis[%d] (%s): %w", i, a.Name, err)
		}
		d.APIs = append(d.APIs, spec)
	}
	return d, nil
}

func (a fileAPI) spec() (admin.APISpec, error) {
	ttl, err := parseTTL(a.AccessTokenTTL)
	if err != nil {
		return admin.APISpec{}, err
	}
	sp := admin.APISpec{
		Name: a.Name, Tenants: a.Tenants, AccessTokenTTL: ttl, TokenPaths: a.TokenPaths,
		SigningAlg: a.SigningAlg, TokenFormat: a.TokenFormat, Audience: a.Audience, DefaultClient: a.DefaultClient,
		ExposeRefreshToken: a.ExposeRefreshToken, Providers: a.Providers,
	}
	if a.RefreshTokenMaxLifetime != "" {
		if sp.RefreshTokenMaxLifetime, err = time.ParseDuration(a.RefreshTokenMaxLifetime); err != nil {
			return sp, fmt.Errorf("refresh_token_max_lifetime %q: want a Go duration such as 2160h", a.RefreshTokenMaxLifetime)
		}
	}
	for j, c := range a.Clients {
		ttl, err := parseTTL(c.AccessTokenTTL)
		if err != nil {
			return sp, fmt.Errorf("clients[%d] (%s): %w", j, c.ClientID, err)
		}
		sp.Clients = append(sp.Clients, admin.DeclaredClient{
			ClientSpec: admin.ClientSpec{
				ID: c.ClientID, Name: c.Name, GrantTypes: c.GrantTypes, Scopes: c.Scopes,
				AccessTokenTTL: ttl, ReturnURLs: c.ReturnURLs,
			},
			Secret: c.ClientSecret,
		})
	}
	for _, u := range a.Users {
		sp.Users = append(sp.Users, admin.UserSpec{Username: u.Username, Password: u.Password, Scopes: u.Scopes})
	}
	return sp, nil
}

// maxTTL is the longest access-token lifetime the admin API accepts.
const maxTTL = 720 * time.Hour

// parseTTL reads an optional Go duration between 1s and 720h, as the
// admin API accepts; empty means the default.
func parseTTL(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Second || d > maxTTL {
		return 0, fmt.Errorf("access_token_ttl %q: want a Go duration between 1s and 720h, such as 15m", s)
	}
	return d, nil
}
