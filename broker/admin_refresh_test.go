package broker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/oauth2broker/oauth2broker/broker/admin"
	"github.com/oauth2broker/oauth2broker/providers"
)

// A provider's refresh-ahead settings are set through the admin API
// (Go durations, bounded, unknown fields still a 400), shown back and
// stored; the YAML declaration takes the same fields.
func TestProviderRefreshSettings(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "x"})
	prov := map[string]any{"template": "github", "client_id": "id", "refresh_lead": "3m", "refresh_idle_after": "720h"}
	a := e.mustAdmin(200, "PUT", "/apis/x/providers/gh", prov)
	if a.Body["refresh_lead"] != "3m0s" || a.Body["refresh_idle_after"] != "720h0m0s" {
		t.Errorf("answer: got %s, want refresh_lead 3m0s and refresh_idle_after 720h0m0s", a.Raw)
	}
	p, err := storedSettings(ctx, e, "gh")
	if err != nil || p.RefreshLead != providers.Duration(3*time.Minute) || p.RefreshIdleAfter != providers.Duration(720*time.Hour) {
		t.Fatalf("stored: got lead %v idle %v (%v), want 3m and 720h", p.RefreshLead, p.RefreshIdleAfter, err)
	}
	plain := e.mustAdmin(200, "PUT", "/apis/x/providers/gh", map[string]any{"template": "github", "client_id": "id"})
	if strings.Contains(plain.Raw, "refresh_") {
		t.Errorf("provider without settings: got %s, want no refresh_ fields", plain.Raw)
	}
	for name, body := range map[string]string{
		"lead too short":  `{"template":"github","client_id":"id","refresh_lead":"5s"}`,
		"lead too long":   `{"template":"github","client_id":"id","refresh_lead":"48h"}`,
		"idle too short":  `{"template":"github","client_id":"id","refresh_idle_after":"30m"}`,
		"lead as number":  `{"template":"github","client_id":"id","refresh_lead":120}`,
		"not a duration":  `{"template":"github","client_id":"id","refresh_lead":"soon"}`,
		"misspelled name": `{"template":"github","client_id":"id","refresh_leed":"3m"}`,
	} {
		if a := e.admin("PUT", "/apis/x/providers/gh", body); a.Status != 400 || a.str("error") != "invalid_request" {
			t.Errorf("%s: got %d %s, want 400 invalid_request", name, a.Status, a.Raw)
		}
	}

	var sp providers.Config
	dec := yaml.NewDecoder(strings.NewReader("template: github\nclient_id: id\nrefresh_lead: 2m\nrefresh_idle_after: 168h\n"))
	dec.KnownFields(true)
	if err := dec.Decode(&sp); err != nil {
		t.Fatalf("YAML provider: %v", err)
	}
	if err := e.Srv.Apply(ctx, admin.Declaration{APIs: []admin.APISpec{{Name: "x", Providers: map[string]providers.Config{"decl": sp}}}}); err != nil {
		t.Fatal(err)
	}
	if p, err := storedSettings(ctx, e, "decl"); err != nil || p.RefreshLead != providers.Duration(2*time.Minute) || p.RefreshIdleAfter != providers.Duration(168*time.Hour) {
		t.Errorf("declared: got lead %v idle %v (%v), want 2m and 168h", p.RefreshLead, p.RefreshIdleAfter, err)
	}
	bad := yaml.NewDecoder(strings.NewReader("template: github\nrefresh_lead: soon\n"))
	if err := bad.Decode(&sp); err == nil {
		t.Error("YAML refresh_lead: soon decoded, want an error")
	}
}

// storedSettings reads the settings stored for provider name of API x.
func storedSettings(ctx context.Context, e *env, name string) (providers.Config, error) {
	p, err := e.Store.GetProvider(ctx, "x", name)
	if err != nil {
		return providers.Config{}, err
	}
	return providers.Decode(name, p.Config)
}
