package seal

// Label names what a sealed value is. With the API and the id of the
// record holding the value, it makes the value's associated data (AD), so
// that a sealed value opens only in its own place: copied into another
// record, or under another label, it does not open.
//
// The constants below are the list of everything the broker seals.
// Values that outlive a key rotation (all but the states' few minutes)
// are sealed again under the primary key by the broker's reseal.
type Label string

// What the broker seals, and where.
const (
	// SigningKey: a token-signing private key
	// (storage.SigningKey.SealedPrivateKey; id: the key id).
	SigningKey Label = "signing-key"
	// ProviderSecret: an upstream client secret
	// (storage.Provider.SealedClientSecret; id: the provider name).
	ProviderSecret Label = "provider-secret"
	// ProviderRegistration: the client the broker registered itself at
	// a provider, with its secret (storage.Provider.SealedRegistration;
	// id: the provider name).
	ProviderRegistration Label = "provider-registration"
	// WebhookSecret: a client's webhook signing secrets, current and
	// rotated-out (storage.Client.SealedWebhookSecret and
	// SealedOldWebhookSecret; id: the client id).
	WebhookSecret Label = "webhook-secret"
	// ConnectionTokens: a connection's upstream token set
	// (storage.Connection.SealedTokens; id: the connection id). Resealed
	// by broker/connections, never beside a refresh of the connection.
	ConnectionTokens Label = "connection-tokens"
	// PendingTokens: the token set of a bound flow waiting for the app's
	// confirmation (storage.State.SealedTokens; id: the state). Lives
	// minutes: not resealed.
	PendingTokens Label = "pending-tokens"
	// PKCEVerifier: a flow's PKCE verifier (storage.State.SealedVerifier;
	// id: the state). Lives minutes: not resealed.
	PKCEVerifier Label = "pkce-verifier"
	// ConsoleSession: the admin console's session cookie (the signed-in
	// person's admin credential and the session's times; api and id:
	// empty). Lives hours at most: not resealed.
	ConsoleSession Label = "console-session"
)

// AD returns the associated data of a value sealed under l in record id
// of api.
func (l Label) AD(api, id string) []byte {
	return []byte(string(l) + "\x00" + api + "\x00" + id)
}
