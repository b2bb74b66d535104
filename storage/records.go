package storage

import "time"

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
}

// Provider is an upstream authorization server configured in an API.
type Provider struct {
	API           string `json:"api"`
	Name          string `json:"name"`
	Template      string `json:"template,omitempty"`
	Type          string `json:"type,omitempty"`
	Issuer        string `json:"issuer,omitempty"`
	AuthURL       string `json:"auth_url,omitempty"`
	TokenURL      string `json:"token_url,omitempty"`
	RevocationURL string `json:"revocation_url,omitempty"`
	UserinfoURL   string `json:"userinfo_url,omitempty"`
	AuthStyle     string `json:"auth_style,omitempty"`
	ClientID      string `json:"client_id,omitempty"`
	// SealedClientSecret is the upstream client secret, sealed.
	SealedClientSecret []byte            `json:"sealed_client_secret,omitempty"`
	Scopes             []string          `json:"scopes,omitempty"`
	AuthParams         map[string]string `json:"auth_params,omitempty"`
	Vars               map[string]string `json:"vars,omitempty"`
	// RefreshLead is how long before its access token expires a
	// background refresh renews a connection of this provider; zero
	// means the catalog entry's, else the broker's global lead.
	RefreshLead time.Duration `json:"refresh_lead,omitempty"`
	// RefreshIdleAfter makes background refreshes also renew a connection
	// last refreshed (or connected) this long ago, for providers that
	// expire unused refresh tokens; zero means the catalog entry's, else
	// never.
	RefreshIdleAfter time.Duration `json:"refresh_idle_after,omitempty"`
	CreatedAt        time.Time     `json:"created_at"`
	UpdatedAt        time.Time     `json:"updated_at"`
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

// State is a one-time authorization state of the upstream consent flow.
type State struct {
	API       string `json:"api"`
	ID        string `json:"id"`
	ClientID  string `json:"client_id"`
	Identity  string `json:"identity"`
	Provider  string `json:"provider"`
	ReturnURL string `json:"return_url,omitempty"`
	Scope     string `json:"scope,omitempty"`
	// SealedVerifier is the PKCE code verifier, sealed.
	SealedVerifier []byte    `json:"sealed_verifier,omitempty"`
	Nonce          string    `json:"nonce,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	ExpiresAt      time.Time `json:"expires_at"`
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
