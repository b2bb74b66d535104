package oauth_test

import (
	"encoding/hex"
	"errors"
	"net/url"
	"testing"

	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
)

// The example of Shopify's documentation: secret "hush".
const shopifyExample = "code=0907a61c0c8d55e99db179b68161bc00&hmac=700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf" +
	"&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173"

func callbackProvider(t *testing.T, q oauth.Quirks, secret string) *oauth.Provider {
	t.Helper()
	p, err := oauth.New(oauth.Config{Config: providers.Config{
		Name: "p", ClientID: "id", ClientSecret: secret, AuthURL: "https://as.example/auth", TokenURL: "https://as.example/token",
	}, Quirks: q})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestShopifyCallbackHMAC(t *testing.T) {
	q, _ := url.ParseQuery(shopifyExample)
	if got := hex.EncodeToString(oauth.ShopifyHMAC(q, "hush")); got != q.Get("hmac") {
		t.Fatalf("ShopifyHMAC of the documented example: got %s, want %s", got, q.Get("hmac"))
	}
	p := callbackProvider(t, oauth.Quirks{CallbackHMAC: oauth.CallbackHMACShopify}, "hush")
	if err := p.CheckCallback(q); err != nil {
		t.Errorf("CheckCallback with the documented hmac: got %v, want nil", err)
	}
	for name, change := range map[string]func(url.Values){
		"changed code": func(v url.Values) { v.Set("code", "attacker") },
		"added param":  func(v url.Values) { v.Set("x", "1") },
		"no hmac":      func(v url.Values) { v.Del("hmac") },
		"bad hex":      func(v url.Values) { v.Set("hmac", "zz") },
		"two hmacs":    func(v url.Values) { v.Add("hmac", v.Get("hmac")) },
		"two codes":    func(v url.Values) { v.Add("code", "attacker") },
	} {
		v, _ := url.ParseQuery(shopifyExample)
		change(v)
		if err := p.CheckCallback(v); !errors.Is(err, providers.ErrUpstream) {
			t.Errorf("%s: got %v, want %v", name, err, providers.ErrUpstream)
		}
	}
	if err := callbackProvider(t, oauth.Quirks{CallbackHMAC: oauth.CallbackHMACShopify}, "other").CheckCallback(q); err == nil {
		t.Errorf("hmac keyed with another secret: got nil, want an error")
	}
	if err := callbackProvider(t, oauth.Quirks{}, "hush").CheckCallback(url.Values{"code": {"c"}}); err != nil {
		t.Errorf("provider without a callback signature: got %v, want nil", err)
	}
}

// A repeated parameter is refused: joined, a=1&a=2 would sign like
// a=1,2, so a signed callback could be reshaped without the secret.
func TestShopifyCallbackHMACRepeatedParameter(t *testing.T) {
	q, _ := url.ParseQuery(shopifyExample)
	q.Set("host", "1,2")
	q.Set("hmac", hex.EncodeToString(oauth.ShopifyHMAC(q, "hush")))
	p := callbackProvider(t, oauth.Quirks{CallbackHMAC: oauth.CallbackHMACShopify}, "hush")
	if err := p.CheckCallback(q); err != nil {
		t.Fatalf("signed callback: got %v, want nil", err)
	}
	q["host"] = []string{"1", "2"}
	if err := p.CheckCallback(q); !errors.Is(err, providers.ErrUpstream) {
		t.Errorf("host=1&host=2 with the hmac of host=1,2: got %v, want %v", err, providers.ErrUpstream)
	}
}

func TestCallbackIssuer(t *testing.T) {
	p := callbackProvider(t, oauth.Quirks{CallbackIssuer: "https://as.example"}, "s")
	for name, tt := range map[string]struct {
		q    url.Values
		fail bool
	}{
		"same":    {url.Values{"code": {"c"}, "iss": {"https://as.example"}}, false},
		"other":   {url.Values{"code": {"c"}, "iss": {"https://evil.example"}}, true},
		"missing": {url.Values{"code": {"c"}}, true},
		"two":     {url.Values{"code": {"c"}, "iss": {"https://as.example", "https://evil.example"}}, true},
		"error":   {url.Values{"error": {"access_denied"}, "iss": {"https://evil.example"}}, true},
	} {
		err := p.CheckCallback(tt.q)
		if (err != nil) != tt.fail || (err != nil && !errors.Is(err, providers.ErrUpstream)) {
			t.Errorf("%s: got %v, want failure %v", name, err, tt.fail)
		}
	}
	if err := callbackProvider(t, oauth.Quirks{}, "s").CheckCallback(url.Values{"code": {"c"}, "iss": {"https://any.example"}}); err != nil {
		t.Errorf("provider that does not advertise iss: got %v, want nil", err)
	}
}
