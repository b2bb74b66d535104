package broker_test

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The OpenAPI document lists exactly the router's routes.
func TestOpenAPIMatchesRouter(t *testing.T) {
	e := newEnv(t)
	a := e.do(mustReq("GET", e.URL+"/openapi.json"))
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal([]byte(a.Raw), &doc); err != nil || a.Status != 200 || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("GET /openapi.json: %d, %v", a.Status, err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	param := regexp.MustCompile(`[:*]([a-z]+)`)
	routed := map[string]bool{}
	for _, r := range e.Srv.Routes() {
		routed[r.Method+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}
	var missing, extra []string
	for r := range routed {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for d := range documented {
		if !routed[d] {
			extra = append(extra, d)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("openapi.json drifted from the router:\n  undocumented routes: %v\n  documented but not routed: %v", missing, extra)
	}
}

// The document shows every provider setting, in the PUT body and in the
// answer (there without the secret).
func TestOpenAPIProviderSettings(t *testing.T) {
	e := newEnv(t)
	a := e.do(mustReq("GET", e.URL+"/openapi.json"))
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal([]byte(a.Raw), &doc); err != nil {
		t.Fatal(err)
	}
	input, view := doc.Components.Schemas["ProviderInput"].Properties, doc.Components.Schemas["Provider"].Properties
	for _, name := range []string{"template", "client_id", "client_secret", "vars", "refresh_lead", "allowed_scopes", "callback"} {
		if input[name] == nil {
			t.Errorf("ProviderInput lacks %s", name)
		}
		if (view[name] == nil) != (name == "client_secret") {
			t.Errorf("Provider: %s shown %t, want only the secret hidden", name, view[name] != nil)
		}
	}
	for _, name := range []string{"name", "client_secret_set", "callback_url", "created_at"} {
		if view[name] == nil {
			t.Errorf("Provider lacks %s", name)
		}
	}
}
