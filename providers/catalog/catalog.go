package catalog

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed entries/*.yaml
var entryFiles embed.FS

// Catalog is the set of built-in provider entries.
type Catalog struct {
	entries map[string]*Entry
}

// Load parses and validates every embedded entry. An invalid entry is an
// error naming its file: the catalog ships whole or not at all.
func Load() (*Catalog, error) {
	files, err := entryFiles.ReadDir("entries")
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	c := &Catalog{entries: map[string]*Entry{}}
	var errs []error
	for _, f := range files {
		b, err := entryFiles.ReadFile(path.Join("entries", f.Name()))
		if err != nil {
			return nil, fmt.Errorf("catalog: %w", err)
		}
		e, err := parseEntry(b)
		if err == nil && e.Name+".yaml" != f.Name() {
			err = fmt.Errorf("name %q does not match the file name", e.Name)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("catalog: %s: %w", f.Name(), err))
			continue
		}
		c.entries[e.Name] = e
	}
	return c, errors.Join(errs...)
}

// parseEntry decodes one entry strictly (unknown fields are errors) and
// validates it.
func parseEntry(b []byte) (*Entry, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var e Entry
	if err := dec.Decode(&e); err != nil {
		return nil, err
	}
	return &e, e.Validate()
}

// Get returns the entry of a template name.
func (c *Catalog) Get(name string) (*Entry, bool) {
	e, ok := c.entries[name]
	return e, ok
}

// Names lists the template names, sorted.
func (c *Catalog) Names() []string {
	names := make([]string, 0, len(c.entries))
	for n := range c.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Table renders the catalog as the Markdown table of the README.
func (c *Catalog) Table() string {
	var b strings.Builder
	b.WriteString("| template | provider | you fill in | quirks handled | revocation | docs |\n|---|---|---|---|---|---|\n")
	for _, n := range c.Names() {
		e := c.entries[n]
		fill := []string{"client_id", "client_secret"}
		for _, v := range e.Vars {
			fill = append(fill, "vars."+v.Name)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | [docs](%s) |\n", e.Name, e.DisplayName,
			strings.Join(fill, ", "), strings.Join(e.Quirks(), ", "), e.revocationKind(), e.Docs[0])
	}
	return b.String()
}

func (e *Entry) revocationKind() string {
	if e.Revocation.Kind == "" {
		if e.Type == "oidc" {
			return "discovered"
		}
		return "none"
	}
	return e.Revocation.Kind
}

// Quirks names the quirk classes an entry uses, for people.
func (e *Entry) Quirks() []string {
	var q []string
	add := func(cond bool, s string) {
		if cond {
			q = append(q, s)
		}
	}
	add(e.Type == "oidc", "OIDC")
	add(len(e.Vars) > 0, "URL template")
	add(e.AuthStyle == "body", "secret in body")
	add(e.ScopeSeparator == "comma" || e.ScopeSeparator == "plus", e.ScopeSeparator+"-separated scopes")
	add(len(e.AuthParams) > 0, "authorize params")
	add(e.PKCE == "required", "PKCE required")
	add(e.QuirkDefaults.PKCE == "plain", "PKCE plain")
	add(e.Token.AccessTokenPath != "" || nested(e.QuirkDefaults.Paths), "nested token")
	add(len(e.QuirkDefaults.ErrorCodes) > 0, "provider error codes")
	add(len(e.QuirkDefaults.TokenParams) > 0 || len(e.QuirkDefaults.RefreshParams) > 0, "token params")
	add(e.QuirkDefaults.RequestBody == "json", "JSON requests")
	add(e.QuirkDefaults.RequestBody == "query", "query-string requests")
	add(len(e.QuirkDefaults.CallbackParams) > 0, "callback params")
	add(e.QuirkDefaults.RefreshURL != "", "refresh URL")
	add(e.QuirkDefaults.Metadata != nil, "metadata call")
	add(e.QuirkDefaults.LongLived != nil, "long-lived token exchange")
	add(e.PKCE == "unsupported", "no PKCE")
	add(e.Token.Lifetime == "never", "non-expiring tokens")
	add(e.Token.Lifetime != "" && e.Token.Lifetime != "never", "default lifetime "+e.Token.Lifetime)
	add(e.Token.Refresh == "rotating" || e.Token.Refresh == "single_use", e.Token.Refresh+" refresh tokens")
	add(e.Token.Refresh == "none", "no refresh tokens")
	add(len(e.Token.Keep) > 0 || len(e.CallbackKeep) > 0, "kept fields")
	add(e.ClientSecret == "apple_jwt", "JWT client secret")
	add(e.Token.RefreshLead != "", "refresh lead "+e.Token.RefreshLead)
	add(e.Token.RefreshIdleAfter != "", "idle keep-alive "+e.Token.RefreshIdleAfter)
	if len(q) == 0 {
		return []string{"none"}
	}
	return q
}

// nested reports whether answer paths name a nested field.
func nested(paths map[string][]string) bool {
	for _, ps := range paths {
		for _, p := range ps {
			if strings.Contains(p, ".") {
				return true
			}
		}
	}
	return false
}
