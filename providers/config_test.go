package providers

import (
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	ok := []Config{
		{Name: "corp", Type: TypeOIDC, Issuer: "https://id.example.com", ClientID: "c"},
		{Name: "gh-2", Type: TypeOAuth2, AuthURL: "https://a.example/auth", TokenURL: "https://a.example/token", ClientID: "c", AuthStyle: AuthStyleBody},
		{Name: "ms", Template: "microsoft", ClientID: "c", Refresh: RefreshPolicy{Lead: 2 * time.Minute, IdleAfter: 720 * time.Hour}},
	}
	for _, c := range ok {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", c, err)
		}
	}
	bad := map[string]Config{
		"no client id":      {Name: "a", Type: TypeOIDC, Issuer: "https://x"},
		"bad name":          {Name: "A B", Type: TypeOIDC, Issuer: "https://x", ClientID: "c"},
		"no type":           {Name: "a", ClientID: "c"},
		"odd type":          {Name: "a", Type: "saml", ClientID: "c"},
		"relative issuer":   {Name: "a", Type: TypeOIDC, Issuer: "/x", ClientID: "c"},
		"missing token url": {Name: "a", Type: TypeOAuth2, AuthURL: "https://x/a", ClientID: "c"},
		"bad revocation":    {Name: "a", Type: TypeOAuth2, AuthURL: "https://x/a", TokenURL: "https://x/t", RevocationURL: "ftp://x", ClientID: "c"},
		"reserved param":    {Name: "a", Type: TypeOIDC, Issuer: "https://x", ClientID: "c", AuthParams: map[string]string{"State": "x"}},
		"bad auth style":    {Name: "a", Type: TypeOIDC, Issuer: "https://x", ClientID: "c", AuthStyle: "both"},
		"lead too short":    {Name: "a", Template: "google", ClientID: "c", Refresh: RefreshPolicy{Lead: time.Second}},
		"lead too long":     {Name: "a", Template: "google", ClientID: "c", Refresh: RefreshPolicy{Lead: 48 * time.Hour}},
		"negative idle":     {Name: "a", Template: "google", ClientID: "c", Refresh: RefreshPolicy{IdleAfter: -time.Hour}},
		"idle too short":    {Name: "a", Template: "google", ClientID: "c", Refresh: RefreshPolicy{IdleAfter: time.Minute}},
	}
	for name, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate = nil, want an error", name)
		}
	}
	if err := (Config{Name: "g", Template: "google", ClientID: "c"}).Validate(); err != nil {
		t.Errorf("template: got %v, want nil (the catalog checks templates)", err)
	}
}
