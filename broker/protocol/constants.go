package protocol

// Grant types (RFC 6749 §4, RFC 8693) and the broker's own connection grant.
const (
	GrantClientCredentials = "client_credentials"
	GrantPassword          = "password"
	GrantRefreshToken      = "refresh_token"
	GrantAuthorizationCode = "authorization_code"
	GrantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
	// GrantConnection returns the upstream token set of a connection.
	GrantConnection = "urn:oauth2broker:grant-type:connection"
	// GrantConnectionShort is the name of GrantConnection in a client's
	// grant_types list.
	GrantConnectionShort = "connection"
	// GrantProxy is the grant_types name that allows a client the
	// upstream API proxy (/{api}/oauth2/proxy/{provider}/...), which
	// uses connections without handing their tokens out.
	GrantProxy = "proxy"
)

// Token type hints (RFC 7009 §2.1) and the token type of answers.
const (
	TokenTypeHintAccessToken  = "access_token"
	TokenTypeHintRefreshToken = "refresh_token"
	TokenTypeBearer           = "Bearer"
)

// MaxBodyBytes is the largest request body the broker reads (1 MiB).
const MaxBodyBytes = 1 << 20
