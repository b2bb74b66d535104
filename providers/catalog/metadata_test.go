package catalog

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// atlassianSteps are fixture steps (the fixtures/ format) proving the
// atlassian entry's JSON token requests and its post-connection metadata
// call; the entry's own fixture file is written with the others.
const atlassianSteps = `
entry: atlassian
steps:
  - name: JSON body, then accessible-resources for the cloud id
    kind: exchange
    doc: https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/#3-1-get-the-cloudid-for-your-site
    code: c1
    calls:
      - request:
          method: POST
          url: https://auth.atlassian.com/oauth/token
          headers: {Content-Type: application/json}
          json: {grant_type: authorization_code, client_id: cid, client_secret: csecret, code: c1, redirect_uri: 'https://broker.example.com/acme/oauth2/provider/callback', code_verifier: dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk}
        answer:
          body: '{"access_token":"at1","expires_in":3600,"scope":"read:me offline_access","refresh_token":"rt1","token_type":"Bearer"}'
      - request:
          method: GET
          url: https://api.atlassian.com/oauth/token/accessible-resources
          headers: {Authorization: Bearer at1, Accept: application/json}
        answer:
          body: '[{"id":"1324a887-45db-1bf4-1e99-ef0ff456d421","name":"Site name","url":"https://your-domain.atlassian.net","scopes":["write:jira-work"],"avatarUrl":"https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/flag.png"}]'
    want:
      access_token: at1
      refresh_token: rt1
      token_type: Bearer
      scope: read:me offline_access
      expires_in: 3600
      extra: {cloud_id: 1324a887-45db-1bf4-1e99-ef0ff456d421, site_url: 'https://your-domain.atlassian.net'}
  - name: the refresh keeps the cloud id without calling again
    kind: refresh
    doc: https://developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens/
    before: {access_token: at1, refresh_token: rt1, extra: {cloud_id: c-1}}
    calls:
      - request:
          method: POST
          url: https://auth.atlassian.com/oauth/token
          json: {grant_type: refresh_token, client_id: cid, client_secret: csecret, refresh_token: rt1}
        answer:
          body: '{"access_token":"at2","expires_in":3600,"refresh_token":"rt2","scope":"read:me offline_access","token_type":"Bearer"}'
    want: {access_token: at2, refresh_token: rt2, token_type: Bearer, scope: read:me offline_access, expires_in: 3600, extra: {cloud_id: c-1}}
`

func TestAtlassianMetadataCall(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	var f Fixture
	dec := yaml.NewDecoder(strings.NewReader(atlassianSteps))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatal(err)
	}
	e, _ := c.Get("atlassian")
	runFixture(t, c, e, &f)
}
