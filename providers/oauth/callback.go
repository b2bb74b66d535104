package oauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/oauth2broker/oauth2broker/providers"
)

// CallbackHMACShopify is Shopify's callback signature: hex HMAC-SHA256,
// keyed with the app's client secret, over the query parameters other
// than hmac (and signature), sorted by name and joined as name=value with
// "&" (https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant,
// "Verify the installation request": every request and redirect from
// Shopify carries hmac).
const CallbackHMACShopify = "shopify"

var _ providers.CallbackChecker = (*Provider)(nil)

// CheckCallback implements providers.CallbackChecker: the iss parameter
// when the provider advertises it (RFC 9207 §2.4: a missing or different
// iss is refused), and the provider's callback signature.
func (p *Provider) CheckCallback(q url.Values) error {
	if want := p.cfg.Quirks.CallbackIssuer; want != "" {
		got, ok := q["iss"]
		if !ok || len(got) != 1 || subtle.ConstantTimeCompare([]byte(got[0]), []byte(want)) != 1 {
			return fmt.Errorf("oauth: callback: %w: iss is missing or names another issuer", providers.ErrUpstream)
		}
	}
	if p.cfg.Quirks.CallbackHMAC == CallbackHMACShopify {
		secret := p.cfg.ClientSecret
		if p.cfg.ClientSecretFunc != nil {
			return fmt.Errorf("oauth: callback: %w: hmac needs a static client secret", providers.ErrUpstream)
		}
		if !ShopifyHMACValid(q, secret) {
			return fmt.Errorf("oauth: callback: %w: hmac does not verify", providers.ErrUpstream)
		}
	}
	return nil
}

// ShopifyHMACValid reports whether q carries a valid Shopify hmac keyed
// with secret (see CallbackHMACShopify). A repeated parameter is refused
// (Shopify's redirect repeats none): ShopifyHMAC joins values with ",",
// so a=1&a=2 would verify with the hmac Shopify gave a=1,2.
func ShopifyHMACValid(q url.Values, secret string) bool {
	for _, v := range q {
		if len(v) != 1 {
			return false
		}
	}
	got, err := hex.DecodeString(q.Get("hmac"))
	if err != nil || len(got) != sha256.Size {
		return false
	}
	return hmac.Equal(got, ShopifyHMAC(q, secret))
}

// Shopify escapes % and & in names and values, and = in names, before
// signing.
var (
	keyEscaper   = strings.NewReplacer("%", "%25", "&", "%26", "=", "%3D")
	valueEscaper = strings.NewReplacer("%", "%25", "&", "%26")
)

// ShopifyHMAC computes Shopify's callback signature of q.
func ShopifyHMAC(q url.Values, secret string) []byte {
	names := make([]string, 0, len(q))
	for k := range q {
		if k != "hmac" && k != "signature" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, k := range names {
		parts = append(parts, keyEscaper.Replace(k)+"="+valueEscaper.Replace(strings.Join(q[k], ",")))
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strings.Join(parts, "&")))
	return mac.Sum(nil)
}
