package storage

import (
	"encoding/json"
	"time"
)

// API is a namespace: it owns its clients, users, providers, tenants, token
// settings and signing keys.
type API struct {
	Name    string   `json:"name"`
	Tenants []string `json:"tenants,omitempty"`
	// AccessTokenTTL is the default lifetime of access tokens; zero means
	// the broker default.
	AccessTokenTTL time.Duration `json:"access_token_ttl,omitempty"`
	// TokenPaths are extra absolute paths at which the API's token
	// endpoint is also served.
	TokenPaths []string `json:"token_paths,omitempty"`
	SigningAlg string   `json:"signing_alg,omitempty"`
	// TokenFormat is "jwt" (the default: signed with SigningAlg, verifiable
	// with the JWKS) or "hmac" (HS256 with a key that is never published:
	// resource servers introspect).
	TokenFormat string `json:"token_format,omitempty"`
	Audience    string `json:"audience,omitempty"`
	// DefaultClient receives password-grant requests that carry no client
	// credentials at all.
	DefaultClient string `json:"default_client,omitempty"`
	// RefreshTokenMaxLifetime is the absolute lifetime of a broker
	// refresh-token family, from the login: no rotation extends it. Zero
	// means the broker default.
	RefreshTokenMaxLifetime time.Duration `json:"refresh_token_max_lifetime,omitempty"`
	// ExposeRefreshToken returns upstream refresh tokens to clients.
	ExposeRefreshToken bool      `json:"expose_refresh_token,omitempty"`
	CreatedAt          time.Time `json:"created_at"`
}

// Client is an application registered in an API.
type Client struct {
	API  string `json:"api"`
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// SecretHash is the hash of the client secret; the secret itself is
	// never stored.
	SecretHash     []byte        `json:"secret_hash"`
	GrantTypes     []string      `json:"grant_types,omitempty"`
	Scopes         []string      `json:"scopes,omitempty"`
	AccessTokenTTL time.Duration `json:"access_token_ttl,omitempty"`
	ReturnURLs     []string      `json:"return_urls,omitempty"`
	// WebhookURL receives the client's connection events, signed with
	// the sealed WebhookSecret.
	WebhookURL          string    `json:"webhook_url,omitempty"`
	SealedWebhookSecret []byte    `json:"sealed_webhook_secret,omitempty"`
	CreatedAt           time.Time `json:"created_at"`
	UpdatedAt           time.Time `json:"updated_at"`

	// SealedOldWebhookSecret is the webhook secret a rotation replaced;
	// deliveries are signed with it as well until OldWebhookSecretUntil.
	SealedOldWebhookSecret []byte    `json:"sealed_old_webhook_secret,omitempty"`
	OldWebhookSecretUntil  time.Time `json:"old_webhook_secret_until,omitzero"`
}

// User is a login for the password grant.
type User struct {
	API      string `json:"api"`
	Username string `json:"username"`
	// PasswordHash is a PHC-encoded password hash (argon2id).
	PasswordHash string    `json:"password_hash"`
	Scopes       []string  `json:"scopes,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// Generation is a random value, new whenever the user is created or
	// the password changes. Refresh-token families record it: a family of
	// another generation (a re-created user, an old password) is dead.
	// Empty in records older than the field.
	Generation string `json:"generation,omitempty"`
	// PasswordChangedAt is when the password was set (at creation or
	// since): access tokens issued before it are no longer active.
	PasswordChangedAt time.Time `json:"password_changed_at,omitzero"`
}

// Provider is an upstream authorization server configured in an API.
// Storage does not read its settings: Config is opaque JSON that the
// providers package writes and reads (a providers.Config), as dex keeps a
// connector's config.
type Provider struct {
	API  string `json:"api"`
	Name string `json:"name"`
	// Config holds the provider's settings, except its client secret.
	Config json.RawMessage `json:"config,omitempty"`
	// SealedClientSecret is the upstream client secret, sealed.
	SealedClientSecret []byte    `json:"sealed_client_secret,omitempty"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
	// SealedRegistration is what the broker registered itself at the
	// provider (an MCP server's authorization server: a client ID
	// metadata document or an RFC 7591 registration, with its secret),
	// sealed; written by the broker with UpdateProvider, not by admins.
	SealedRegistration []byte `json:"sealed_registration,omitempty"`
}

// Connection status values.
const (
	StatusActive      = "active"
	StatusDegraded    = "degraded"
	StatusNeedsReauth = "needs_reauth"
	StatusRevoked     = "revoked"
)

// Connection is the stored upstream token set of one
// (API, client, client_user_identity, provider).
type Connection struct {
	API      string `json:"api"`
	ID       string `json:"id"`
	ClientID string `json:"client_id"`
	Identity string `json:"identity"`
	Provider string `json:"provider"`
	Status   string `json:"status"`
	Scope    string `json:"scope,omitempty"`
	// SealedTokens is the upstream token set, sealed.
	SealedTokens []byte    `json:"sealed_tokens,omitempty"`
	Expiry       time.Time `json:"expiry,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	RefreshedAt  time.Time `json:"refreshed_at,omitempty"`
	LastError    string    `json:"last_error,omitempty"`
	LastErrorAt  time.Time `json:"last_error_at,omitempty"`
	// ConnectedAt is when the current grant was obtained (the last
	// callback or import); CreatedAt stays the first connect's. Zero in
	// records older than the field: CreatedAt stands for it.
	ConnectedAt time.Time `json:"connected_at,omitzero"`
	// RefreshFailures counts the transient refresh failures since the
	// last success; background refreshes back off exponentially with it.
	RefreshFailures int `json:"refresh_failures,omitempty"`
	// NextRefreshAt is when background refreshes may try the connection
	// again after a failure (the backoff, or the upstream's Retry-After).
	NextRefreshAt time.Time `json:"next_refresh_at,omitzero"`
	// RetryAfter is when the upstream, answering 429 or 503 with
	// Retry-After, allows the next refresh: no refresh of the connection,
	// background or on demand, is sent before it.
	RetryAfter time.Time `json:"retry_after,omitzero"`
	// RefreshLeaseUntil is set while one broker replica refreshes the
	// connection upstream: the others wait for its result instead of
	// refreshing too. A lease left by a crashed replica simply expires.
	RefreshLeaseUntil time.Time `json:"refresh_lease_until,omitzero"`
	// Version is maintained by the backend: 1 on create, +1 per update.
	Version int64 `json:"version"`
}

// ConnectionFilter selects connections; empty fields match everything.
type ConnectionFilter struct {
	ClientID string
	Identity string
	Provider string
}

// Issued-token record kinds.
const (
	// KindRefreshToken records a refresh token the broker issued; its ID
	// is the hash of the token.
	KindRefreshToken = "refresh_token"
	// KindRevokedAccessToken records the jti of a revoked access token
	// until the token would have expired.
	KindRevokedAccessToken = "revoked_access_token"
	// KindFamily records a refresh-token family; Revoked ends every token
	// of the family.
	KindFamily = "family"
)

// IssuedToken records a token the broker issued, for rotation, revocation
// and introspection.
type IssuedToken struct {
	API       string    `json:"api"`
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	FamilyID  string    `json:"family_id,omitempty"`
	ClientID  string    `json:"client_id,omitempty"`
	Subject   string    `json:"subject,omitempty"`
	Scope     string    `json:"scope,omitempty"`
	Tenant    string    `json:"tenant,omitempty"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// UsedAt is set when a refresh token was exchanged (rotated).
	UsedAt  time.Time `json:"used_at,omitempty"`
	Revoked bool      `json:"revoked,omitempty"`
	// UserGeneration is the Generation of the user a refresh token was
	// issued to (password grant).
	UserGeneration string `json:"user_generation,omitempty"`
	// FamilyExpiresAt is the absolute end of a refresh token's family.
	FamilyExpiresAt time.Time `json:"family_expires_at,omitzero"`
}

// SigningKey is one of an API's token signing keys.
type SigningKey struct {
	API string `json:"api"`
	// ID is the JWK key id; IDs sort by creation time.
	ID  string `json:"id"`
	Alg string `json:"alg"`
	// SealedPrivateKey is the PKCS#8 DER private key, sealed.
	SealedPrivateKey []byte    `json:"sealed_private_key"`
	CreatedAt        time.Time `json:"created_at"`
	// RetiredAt is set when the key stopped signing.
	RetiredAt time.Time `json:"retired_at,omitempty"`
	// RemoveAt is when the retired key may leave the JWKS (its last token
	// has expired).
	RemoveAt time.Time `json:"remove_at,omitempty"`
}

// State kinds: one table holds the one-time records of the consent flows,
// told apart by a Kind that only the broker sets (never a value a client
// controls).
const (
	// StateKindAuthorize is the state of an upstream authorization-code
	// flow, consumed by the callback. Records older than the field have
	// an empty Kind and a Provider; they count as this kind.
	StateKindAuthorize = "authorize"
	// StateKindConnectLink is a one-time link to the connect page.
	StateKindConnectLink = "connect_link"
	// StateKindPending holds the sealed token set of a finished flow whose
	// caller asked for a binding, until the app confirms it.
	StateKindPending = "pending"
)

// State is a one-time authorization state of the upstream consent flow.
type State struct {
	API       string `json:"api"`
	ID        string `json:"id"`
	Kind      string `json:"kind,omitempty"`
	ClientID  string `json:"client_id"`
	Identity  string `json:"identity"`
	Provider  string `json:"provider"`
	ReturnURL string `json:"return_url,omitempty"`
	Scope     string `json:"scope,omitempty"`
	// SealedVerifier is the PKCE code verifier, sealed.
	SealedVerifier []byte `json:"sealed_verifier,omitempty"`
	Nonce          string `json:"nonce,omitempty"`
	// RedirectURI is the broker callback the authorization request
	// named; the code exchange sends the same one.
	RedirectURI string `json:"redirect_uri,omitempty"`
	// BrowserHash is the SHA-256 of a secret held by the browser that
	// started the flow (a connect-page flow); the callback requires it.
	BrowserHash []byte `json:"browser_hash,omitempty"`
	// BindingHash is the SHA-256 of the binding an app passed to
	// authorize: the connection is stored only once the app confirms the
	// flow with the same binding.
	BindingHash []byte `json:"binding_hash,omitempty"`
	// SealedTokens is the exchanged token set of a pending record, sealed.
	SealedTokens []byte    `json:"sealed_tokens,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	ExpiresAt    time.Time `json:"expires_at"`
}

// StateFilter selects states for CountStates; empty fields match every
// state, and a state is counted only when it expires after LiveAt.
type StateFilter struct {
	Kind     string
	ClientID string
	Identity string
	LiveAt   time.Time
}

// StateCount is what CountStates found.
type StateCount struct {
	Live int
	// NextExpiry is the earliest ExpiresAt among the counted states; zero
	// when none was counted.
	NextExpiry time.Time
}

// Count adds s to c when it matches f.
func (c *StateCount) Count(f StateFilter, s State) {
	if (f.Kind != "" && s.Kind != f.Kind) || (f.ClientID != "" && s.ClientID != f.ClientID) ||
		(f.Identity != "" && s.Identity != f.Identity) || !s.ExpiresAt.After(f.LiveAt) {
		return
	}
	c.Live++
	if c.NextExpiry.IsZero() || s.ExpiresAt.Before(c.NextExpiry) {
		c.NextExpiry = s.ExpiresAt
	}
}

// WebhookEvent is an event waiting for delivery to a client's webhook. It
// is stored before delivery is tried, so a restart loses none.
type WebhookEvent struct {
	API      string `json:"api"`
	ID       string `json:"id"`
	ClientID string `json:"client_id"`
	Type     string `json:"type"`
	// Payload is the JSON body to deliver; it never holds a token.
	Payload   []byte    `json:"payload"`
	Attempts  int       `json:"attempts"`
	NextAt    time.Time `json:"next_at"`
	LastError string    `json:"last_error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Status is "" (pending) until the event is delivered ("delivered")
	// or given up ("failed"); a finished event is kept a while so that
	// operators can see it.
	Status string `json:"status,omitempty"`
	// LastStatus is the HTTP status of the last attempt; 0 when none
	// answered.
	LastStatus    int       `json:"last_status,omitempty"`
	LastAttemptAt time.Time `json:"last_attempt_at,omitzero"`
	FinishedAt    time.Time `json:"finished_at,omitzero"`
	// ClaimedUntil is set while a replica delivers the event.
	ClaimedUntil time.Time `json:"claimed_until,omitzero"`
}

// AuditEvent records an administrative change or a connection event, for
// operators. It never holds a secret or token.
type AuditEvent struct {
	API string `json:"api"`
	// ID sorts by time.
	ID string `json:"id"`
	// Actor is "admin" for the admin API, else the client id.
	Actor     string            `json:"actor"`
	Action    string            `json:"action"`
	Target    string            `json:"target,omitempty"`
	Details   map[string]string `json:"details,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
	// ExpiresAt is when GarbageCollect may delete the event; zero keeps
	// it for ever.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// AdminKey is a credential of the admin API narrower than the admin
// token: scoped to some APIs, read-only or read-write, expiring and
// revocable. The key itself is never stored, only its hash.
type AdminKey struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// SecretHash is the hash of the key's secret part.
	SecretHash []byte    `json:"secret_hash"`
	APIs       []string  `json:"apis"`
	ReadOnly   bool      `json:"read_only,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	// ExpiresAt is when the key stops working; zero: never.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// RevokedAt is when the key was revoked; zero while it is not.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}
