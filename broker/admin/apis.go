package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/events"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/broker/tokens"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// apiNameRE is the syntax of API names.
var apiNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidAPIName reports whether name is a valid API name.
func ValidAPIName(name string) bool { return apiNameRE.MatchString(name) }

// reservedNames cannot be API names: they are top-level routes.
var reservedNames = []string{"admin", "healthz", "readyz", "metrics", "openapi.json", ".well-known"}

// apiView is an API in admin answers.
type apiView struct {
	Name               string             `json:"name"`
	Issuer             string             `json:"issuer"`
	Tenants            []string           `json:"tenants"`
	AccessTokenTTL     providers.Duration `json:"access_token_ttl"`
	TokenPaths         []string           `json:"token_paths"`
	SigningAlg         string             `json:"signing_alg"`
	TokenFormat        string             `json:"token_format"`
	Audience           string             `json:"audience,omitempty"`
	DefaultClient      string             `json:"default_client,omitempty"`
	ExposeRefreshToken bool               `json:"expose_refresh_token"`
	CreatedAt          time.Time          `json:"created_at"`
	// RefreshTokenMaxLifetime is the absolute lifetime of a refresh-token
	// family (the effective value: the default when unset).
	RefreshTokenMaxLifetime providers.Duration `json:"refresh_token_max_lifetime"`
}

func (s *API) apiView(a storage.API) apiView {
	ttl := a.AccessTokenTTL
	if ttl == 0 {
		ttl = tokens.DefaultAccessTokenTTL
	}
	alg := a.SigningAlg
	if alg == "" {
		alg = tokens.DefaultSigningAlg
	}
	return apiView{
		Name: a.Name, Issuer: s.tokens.IssuerURL(a.Name), Tenants: nonNil(a.Tenants), AccessTokenTTL: providers.Duration(ttl),
		TokenPaths: nonNil(a.TokenPaths), SigningAlg: alg, TokenFormat: tokenFormat(a), Audience: a.Audience, DefaultClient: a.DefaultClient,
		ExposeRefreshToken: a.ExposeRefreshToken, CreatedAt: a.CreatedAt, RefreshTokenMaxLifetime: providers.Duration(refreshMaxLifetime(a)),
	}
}

// refreshMaxLifetime is an API's refresh-token family lifetime.
func refreshMaxLifetime(a storage.API) time.Duration {
	if a.RefreshTokenMaxLifetime > 0 {
		return a.RefreshTokenMaxLifetime
	}
	return tokens.DefaultRefreshFamilyLifetime
}

// maxRefreshLifetime bounds refresh_token_max_lifetime (ten years).
const maxRefreshLifetime = 10 * 365 * 24 * time.Hour

func checkRefreshLifetime(d *providers.Duration) error {
	if d != nil && (*d < 0 || time.Duration(*d) > maxRefreshLifetime || (*d > 0 && time.Duration(*d) < time.Minute)) {
		return protocol.ErrInvalidRequest.WithDescription("refresh_token_max_lifetime must be between 1m and 87600h (0: the default, 2160h)")
	}
	return nil
}

// apiInput is the body of POST (all fields) and PATCH (fields to change).
type apiInput struct {
	Name               *string             `json:"name"`
	Tenants            *[]string           `json:"tenants"`
	AccessTokenTTL     *providers.Duration `json:"access_token_ttl"`
	TokenPaths         *[]string           `json:"token_paths"`
	SigningAlg         *string             `json:"signing_alg"`
	TokenFormat        *string             `json:"token_format"`
	Audience           *string             `json:"audience"`
	DefaultClient      *string             `json:"default_client"`
	ExposeRefreshToken *bool               `json:"expose_refresh_token"`
	// RefreshTokenMaxLifetime applies to refresh tokens of later logins.
	RefreshTokenMaxLifetime *providers.Duration `json:"refresh_token_max_lifetime"`
}

// apply copies the set fields of in onto a.
func (in apiInput) apply(a *storage.API) error {
	if err := checkTTL(in.AccessTokenTTL); err != nil {
		return err
	}
	if err := checkRefreshLifetime(in.RefreshTokenMaxLifetime); err != nil {
		return err
	}
	if in.RefreshTokenMaxLifetime != nil {
		a.RefreshTokenMaxLifetime = time.Duration(*in.RefreshTokenMaxLifetime)
	}
	setIf(&a.Tenants, in.Tenants)
	setIf(&a.TokenPaths, in.TokenPaths)
	setIf(&a.SigningAlg, in.SigningAlg)
	setIf(&a.TokenFormat, in.TokenFormat)
	setIf(&a.Audience, in.Audience)
	setIf(&a.DefaultClient, in.DefaultClient)
	setIf(&a.ExposeRefreshToken, in.ExposeRefreshToken)
	if in.AccessTokenTTL != nil {
		a.AccessTokenTTL = time.Duration(*in.AccessTokenTTL)
	}
	return nil
}

func setIf[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// validateAPI checks an API's own fields.
func validateAPI(a storage.API) error {
	if !apiNameRE.MatchString(a.Name) || slices.Contains(reservedNames, a.Name) {
		return protocol.ErrInvalidRequest.WithDescription(fmt.Sprintf("api name must match %s and not be one of %s", apiNameRE, strings.Join(reservedNames, ", ")))
	}
	if a.SigningAlg != "" && !tokens.ValidAlg(a.SigningAlg) {
		return protocol.ErrInvalidRequest.WithDescription("signing_alg must be one of " + strings.Join(tokens.SupportedAlgs, ", "))
	}
	if a.TokenFormat != "" && a.TokenFormat != tokens.FormatJWT && a.TokenFormat != tokens.FormatHMAC {
		return protocol.ErrInvalidRequest.WithDescription(`token_format must be "jwt" or "hmac"`)
	}
	if err := uniqueNonEmpty("tenants", a.Tenants, 256); err != nil {
		return err
	}
	if err := uniqueNonEmpty("token_paths", a.TokenPaths, 256); err != nil {
		return err
	}
	for _, p := range a.TokenPaths {
		if err := validateTokenPath(p); err != nil {
			return err
		}
	}
	return nil
}

func uniqueNonEmpty(field string, values []string, maxLen int) error {
	for i, v := range values {
		if v == "" || len(v) > maxLen || slices.Contains(values[:i], v) {
			return protocol.ErrInvalidRequest.WithDescription(fmt.Sprintf("%s must be distinct non-empty strings of at most %d bytes", field, maxLen))
		}
	}
	return nil
}

// validateTokenPath accepts clean absolute paths that cannot shadow a
// built-in route.
func validateTokenPath(p string) error {
	bad := protocol.ErrInvalidRequest.WithDescription(fmt.Sprintf("token path %q must be a clean absolute path outside the broker's own routes", p))
	if !strings.HasPrefix(p, "/") || path.Clean(p) != p || p == "/" || strings.ContainsAny(p, "?#%* :") {
		return bad
	}
	if slices.Contains(reservedNames, firstSegment(p)) {
		return bad
	}
	return nil
}

func firstSegment(p string) string {
	seg, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return seg
}

// checkAPIRefs checks what an API refers to: its default client exists,
// no other API claims one of its token paths, and no token path lies under
// another API's name (nor one of another API's under this name), since
// /{api}/... belongs to that API.
func (s *API) checkAPIRefs(c context.Context, a storage.API) error {
	if a.DefaultClient != "" {
		if _, err := s.store.GetClient(c, a.Name, a.DefaultClient); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return protocol.ErrInvalidRequest.WithDescription("default_client is not a client of this API")
			}
			return err
		}
	}
	all, err := s.store.ListAPIs(c)
	if err != nil {
		return err
	}
	for _, other := range all {
		if other.Name == a.Name {
			continue
		}
		for _, p := range a.TokenPaths {
			if slices.Contains(other.TokenPaths, p) {
				return protocol.ErrConflict.WithDescription(fmt.Sprintf("token path %q belongs to api %q", p, other.Name))
			}
			if firstSegment(p) == other.Name {
				return protocol.ErrConflict.WithDescription(fmt.Sprintf("token path %q lies under api %q", p, other.Name))
			}
		}
		for _, p := range other.TokenPaths {
			if firstSegment(p) == a.Name {
				return protocol.ErrConflict.WithDescription(fmt.Sprintf("api %q has token path %q under this name", other.Name, p))
			}
		}
	}
	return nil
}

func (s *API) listAPIs(c *gin.Context) {
	apis, err := s.store.ListAPIs(c)
	if err != nil {
		fail(c, err)
		return
	}
	p := principalOf(c)
	apis = slices.DeleteFunc(apis, func(a storage.API) bool { return !p.sees(a.Name) })
	protocol.WriteList(c.Writer, "apis", apis, s.apiView)
}

func (s *API) getAPI(c *gin.Context) {
	protocol.WriteJSON(c.Writer, http.StatusOK, s.apiView(currentAPI(c)))
}

func (s *API) createAPI(c *gin.Context) {
	var in apiInput
	if err := decodeJSON(c, &in); err != nil {
		fail(c, err)
		return
	}
	if in.Name == nil {
		fail(c, protocol.ErrInvalidRequest.WithDescription("name is required"))
		return
	}
	a := storage.API{Name: *in.Name, CreatedAt: s.now().UTC()}
	if err := in.apply(&a); err != nil {
		fail(c, err)
		return
	}
	if a.DefaultClient != "" {
		fail(c, protocol.ErrInvalidRequest.WithDescription("set default_client with PATCH once the client exists"))
		return
	}
	a, err := s.saveAPI(c, a, true)
	if err != nil {
		fail(c, err)
		return
	}
	s.logger(c).Info("api created", "api", a.Name)
	s.events.Emit(c, events.Event{API: a.Name, Actor: actor(c), Type: "api.created", Target: a.Name})
	protocol.WriteJSON(c.Writer, http.StatusCreated, s.apiView(a))
}

func (s *API) patchAPI(c *gin.Context) {
	var in apiInput
	if err := decodeJSON(c, &in); err != nil {
		fail(c, err)
		return
	}
	old := currentAPI(c)
	if in.Name != nil && *in.Name != old.Name {
		fail(c, protocol.ErrInvalidRequest.WithDescription("an API cannot be renamed"))
		return
	}
	if in.TokenPaths != nil && !slices.Equal(*in.TokenPaths, old.TokenPaths) && !principalOf(c).root() {
		// Token paths are one namespace for all APIs: a conflict would
		// tell a key of the other APIs.
		fail(c, protocol.ErrAccessDenied.WithDescription("token_paths can be changed with the admin token only"))
		return
	}
	a := old
	if err := in.apply(&a); err != nil {
		fail(c, err)
		return
	}
	a, err := s.saveAPI(c, a, false)
	if err != nil {
		fail(c, err)
		return
	}
	if tokensAlg(old) != tokensAlg(a) {
		// Retire the old algorithm's keys so they leave the JWKS once
		// their tokens expired.
		if _, err := s.tokens.Rotate(c, a, s.longestTTL(c, a)); err != nil {
			fail(c, err)
			return
		}
	}
	s.events.Emit(c, events.Event{API: a.Name, Actor: actor(c), Type: "api.updated", Target: a.Name})
	protocol.WriteJSON(c.Writer, http.StatusOK, s.apiView(a))
}

func tokensAlg(a storage.API) string {
	if a.TokenFormat == tokens.FormatHMAC {
		return tokens.HMACAlg
	}
	if a.SigningAlg == "" {
		return tokens.DefaultSigningAlg
	}
	return a.SigningAlg
}

func tokenFormat(a storage.API) string {
	if a.TokenFormat == "" {
		return tokens.FormatJWT
	}
	return a.TokenFormat
}

// saveAPI validates and stores an API, creating or updating it.
func (s *API) saveAPI(c context.Context, a storage.API, create bool) (storage.API, error) {
	if err := validateAPI(a); err != nil {
		return a, err
	}
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	defer s.onAPIChange()
	if err := s.checkAPIRefs(c, a); err != nil {
		return a, err
	}
	if create {
		return a, storeError(s.store.CreateAPI(c, a), "api")
	}
	stored, err := s.store.UpdateAPI(c, a.Name, func(storage.API) (storage.API, error) { return a, nil })
	if err != nil {
		return a, storeError(err, "api")
	}
	return stored, nil
}
