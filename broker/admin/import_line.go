package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/connections"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/providers"
)

// importLine is one line of a token import: an upstream grant made
// elsewhere, for one (client, identity, provider).
type importLine struct {
	ClientID     string     `json:"client_id"`
	Identity     string     `json:"client_user_identity"`
	Provider     string     `json:"provider"`
	AccessToken  string     `json:"access_token"`
	RefreshToken string     `json:"refresh_token"`
	TokenType    string     `json:"token_type"`
	IDToken      string     `json:"id_token"`
	ExpiresAt    importTime `json:"expires_at"`
	Scope        string     `json:"scope"`
	// Metadata is handed back to the app beside the tokens, like the
	// extra fields of a provider's answer (instance_url…).
	Metadata map[string]any `json:"metadata"`
}

// maxImportName bounds client_id and provider: a client id has at most
// 128 bytes, a provider name 63.
const maxImportName = 128

// maxMetadata bounds the metadata keys of one imported connection.
const maxMetadata = 32

// reservedMetadata are the members of the connection answer that
// metadata may not replace.
var reservedMetadata = []string{"access_token", "token_type", "refresh_token", "expires_in", "expires_at", "scope", "id_token",
	"provider", "client_user_identity"}

// importTime is expires_at: an RFC 3339 time or Unix seconds.
type importTime struct {
	t   time.Time
	set bool
}

// errImportTime is the decoding error of a malformed expires_at.
var errImportTime = errors.New("expires_at must be an RFC 3339 time or Unix seconds")

// UnmarshalJSON reads an RFC 3339 string or a number of seconds.
func (t *importTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if s, ok := bytes.CutPrefix(b, []byte(`"`)); ok {
		v, err := time.Parse(time.RFC3339, string(bytes.TrimSuffix(s, []byte(`"`))))
		if err != nil {
			return errImportTime
		}
		t.t, t.set = v, true
		return nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || n < 0 || n > 253402300799 { // 9999-12-31
		return errImportTime
	}
	t.t, t.set = time.Unix(n, 0), true
	return nil
}

// parseImportLine decodes one line strictly: one JSON object, no
// unknown field, no trailing data. Its error is the reason to answer:
// it never holds a value of the line.
func parseImportLine(raw []byte) (importLine, error) {
	var in importLine
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		if errors.Is(err, errImportTime) {
			return in, err
		}
		return in, errors.New("invalid JSON: " + jsonProblem(err))
	}
	if dec.More() {
		return in, errors.New("invalid JSON: trailing data")
	}
	return in, in.check()
}

// check validates the line's own fields.
func (in importLine) check() error {
	switch {
	case in.ClientID == "":
		return errors.New("client_id is required")
	case in.Provider == "":
		return errors.New("provider is required")
	case in.AccessToken == "":
		return errors.New("access_token is required")
	case len(in.ClientID) > maxImportName || len(in.Provider) > maxImportName:
		// Longer is no client id nor provider name; and the import
		// remembers the names it looked up (maxCached of them).
		return fmt.Errorf("client_id and provider must be at most %d bytes", maxImportName)
	case len(in.Metadata) > maxMetadata:
		return fmt.Errorf("metadata may hold at most %d keys", maxMetadata)
	}
	if err := connections.CheckIdentity(in.Identity); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "connections: "))
	}
	for k := range in.Metadata {
		if slices.Contains(reservedMetadata, k) {
			return fmt.Errorf("metadata key %q is a member of the token answer", k)
		}
	}
	return nil
}

// tokenSet is the line's token set as the broker keeps it. An access
// token without expires_at expires now when there is a refresh token
// (the first use refreshes it), and never otherwise.
func (in importLine) tokenSet(now time.Time) (*providers.TokenSet, error) {
	ts := &providers.TokenSet{AccessToken: in.AccessToken, TokenType: in.TokenType, RefreshToken: in.RefreshToken,
		IDToken: in.IDToken, Scope: in.Scope, Expiry: in.ExpiresAt.t}
	if ts.TokenType == "" {
		ts.TokenType = protocol.TokenTypeBearer
	}
	if !in.ExpiresAt.set && in.RefreshToken != "" {
		ts.Expiry = now
	}
	if in.ExpiresAt.set && !in.ExpiresAt.t.After(now) && in.RefreshToken == "" {
		return nil, errors.New("the access token has expired and there is no refresh_token")
	}
	if len(in.Metadata) > 0 {
		ts.Extra = in.Metadata
	}
	return ts, nil
}
