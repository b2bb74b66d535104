package oauth

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/oauth2broker/oauth2broker/providers"
)

// metadata makes the post-connection call of quirks.metadata: GET its
// URL with ts's access token as a Bearer credential, and keep the chosen
// fields of the answer in ts.Extra, handed to the app with the token set
// (Atlassian's accessible-resources → cloud id, Xero's connections →
// tenant id). Without quirks.metadata it does nothing.
func (p *Provider) metadata(ctx context.Context, ts *providers.TokenSet) error {
	m := p.cfg.Config.Quirks.Metadata
	if m == nil {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL, nil)
	if err != nil {
		return fmt.Errorf("oauth: metadata: %w: %w", providers.ErrUpstream, err)
	}
	for k, v := range m.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+ts.AccessToken)
	resp, err := p.client.Do(req)
	if err != nil {
		return Classify("metadata", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body) // bounded by outbound.Guard
	if err != nil {
		return Classify("metadata", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("oauth: metadata: %w (status %d)", classifyAnswer(resp.StatusCode, ""), resp.StatusCode)
	}
	answer, ok := parseJSON(body)
	if !ok {
		return fmt.Errorf("oauth: metadata: %w: the answer is not JSON", providers.ErrUpstream)
	}
	for name, path := range m.Keep {
		if v, ok := lookup(answer, path); ok {
			if ts.Extra == nil {
				ts.Extra = map[string]any{}
			}
			ts.Extra[name] = v
		}
	}
	return nil
}
