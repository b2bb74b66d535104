package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestProvidersCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"providers"}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "github") {
		t.Fatalf("providers: exit %d, out %q, err %q; want the catalog listed", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run([]string{"providers", "show", "slack"}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "nested token") || !strings.Contains(out.String(), "client_secret") {
		t.Fatalf("providers show slack: exit %d, out %q; want what to fill in and the quirks", code, out.String())
	}
	// An entry without default scopes says so rather than printing an
	// empty line (teamleader's scopes are chosen when the app is registered).
	out.Reset()
	if code := run([]string{"providers", "show", "teamleader"}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "Default scopes: none") {
		t.Errorf("providers show teamleader: exit %d, out %q; want \"Default scopes: none\"", code, out.String())
	}
	if code := run([]string{"providers", "show", "nope"}, &out, &errb); code == exitOK {
		t.Errorf("providers show nope: exit 0, want an error")
	}
}

// providers show prints the values of the entry's quirks block (as a
// provider's quirks would spell them), its other settings, the callback
// to register and its notes, not just the quirk labels.
func TestProvidersShowPrintsQuirkValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"slack", []string{
			"token_url: https://slack.com/api/oauth.v2.access",
			"pkce: unsupported",
			"scope_param: user_scope",
			"  paths:\n    access_token:\n      - authed_user.access_token\n      - access_token\n",
			"  error_codes:\n", "    invalid_refresh_token: invalid_grant\n",
			"token.keep: team.id",
		}},
		{"shopify", []string{
			"vars.shop:",
			"  token_params:\n    expiring: \"1\"\n",
			"callback_hmac: shopify",
			"{public_url}/{api}/oauth2/provider/callback/{name}",
			"Notes: Set vars.shop",
		}},
		{"atlassian", []string{
			"  request_body: json\n",
			"  metadata:\n    url: https://api.atlassian.com/oauth/token/accessible-resources\n",
			"      cloud_id: 0.id\n",
			"token.refresh_idle_after: 720h",
		}},
		{"github", []string{"  refresh_tokens: none\n", "revocation: github_grant https://api.github.com/applications/{client_id}/grant", "Notes: Register"}},
		{"bitbucket", []string{"Quirks: none (plain RFC 6749)", "auth_style: header", "token.scope_path: scopes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run([]string{"providers", "show", tc.name}, &out, &errb); code != exitOK {
				t.Fatalf("exit %d, err %q", code, errb.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("got:\n%s\nwant it to contain %q", out.String(), w)
				}
			}
		})
	}
}
