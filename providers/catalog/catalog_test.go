package catalog

import (
	"os"
	"strings"
	"testing"

	"github.com/oauth2broker/oauth2broker/providers"
)

func TestEveryEntryLoadsAndValidates(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Names()) == 0 {
		t.Fatal("catalog is empty")
	}
}

func TestValidateRejects(t *testing.T) {
	base := func() Entry {
		return Entry{Name: "x", DisplayName: "X", Docs: []string{"https://x.example/docs"}, Type: "oauth2",
			AuthURL: "https://x.example/auth", TokenURL: "https://x.example/token"}
	}
	if err := (&Entry{}).Validate(); err == nil {
		t.Fatal("empty entry validated")
	}
	ok := base()
	if err := ok.Validate(); err != nil {
		t.Fatalf("minimal entry: %v", err)
	}
	cases := map[string]func(*Entry){
		"no docs":        func(e *Entry) { e.Docs = nil },
		"http docs":      func(e *Entry) { e.Docs = []string{"http://x.example"} },
		"undeclared var": func(e *Entry) { e.AuthURL = "https://{tenant}.x.example/auth" },
		"unused var":     func(e *Entry) { e.Vars = []Var{{Name: "shop", Description: "d"}} },
		"http url":       func(e *Entry) { e.TokenURL = "http://x.example/token" },
		"bad separator":  func(e *Entry) { e.ScopeSeparator = ";" },
		"bad revocation": func(e *Entry) {
			e.Revocation = Revocation{Revocation: providers.Revocation{Kind: "magic"}, URL: "https://x.example/r"}
		},
		"revocation no url":   func(e *Entry) { e.Revocation = Revocation{Revocation: providers.Revocation{Kind: "rfc7009"}} },
		"bad lifetime":        func(e *Entry) { e.Token.Lifetime = "forever" },
		"bad path":            func(e *Entry) { e.Token.AccessTokenPath = "a..b" },
		"bad type":            func(e *Entry) { e.Type = "saml" },
		"oidc without issuer": func(e *Entry) { e.Type = "oidc" },
		"bad refresh lead":    func(e *Entry) { e.Token.RefreshLead = "soon" },
		"refresh lead 0s":     func(e *Entry) { e.Token.RefreshLead = "1s" },
		"idle after too long": func(e *Entry) { e.Token.RefreshIdleAfter = "10000h" },
	}
	for name, mutate := range cases {
		e := base()
		mutate(&e)
		if err := e.Validate(); err == nil {
			t.Errorf("%s: validated, want an error", name)
		}
	}
}

// The README's provider table is generated from the catalog; this test
// fails when they differ. Run with OAUTH2BROKER_UPDATE_README=1 to
// rewrite it.
func TestREADMETableMatchesCatalog(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	const readme = "../../README.md"
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- catalog:begin -->\n", "<!-- catalog:end -->"
	text := string(b)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q … %q markers", strings.TrimSpace(begin), end)
	}
	want := text[:i+len(begin)] + c.Table() + text[j:]
	if want == text {
		return
	}
	if os.Getenv("OAUTH2BROKER_UPDATE_README") == "1" {
		if err := os.WriteFile(readme, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's provider table differs from the catalog; run OAUTH2BROKER_UPDATE_README=1 go test ./providers/catalog/")
}
