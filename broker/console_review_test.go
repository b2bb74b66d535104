package broker_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// A username is any printable ASCII, "/" and ".." included, and a
// read-write key of one API can create it. The console's forms must
// keep it one path segment: otherwise the browser resolves the dots, and
// the root admin pressing Delete on that user deletes a client of
// another API (a confused deputy across tenants).
func TestConsoleUsernameStaysOneSegment(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "a"})
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "b"})
	victim, _ := e.client("b", map[string]any{"client_id": "victim", "grant_types": []string{"client_credentials"}})
	evil := "x/../../../b/clients/" + victim
	e.mustAdmin(201, "POST", "/apis/a/users", map[string]any{"username": evil, "password": "a password"})

	u := newConsoleUser(t, e)
	u.signIn(adminToken)
	page := u.do("GET", "/admin/console/apis/a/users", nil)
	actions := regexp.MustCompile(`action="([^"]*/(?:delete|password))"`).FindAllStringSubmatch(page.Body, -1)
	if len(actions) != 2 {
		t.Fatalf("user forms: got %d, want 2:\n%s", len(actions), page.Body)
	}
	base, _ := url.Parse(e.URL + "/admin/console/apis/a/users")
	var del string
	for _, m := range actions {
		to, err := base.Parse(html.UnescapeString(m[1]))
		if err != nil {
			t.Fatalf("action %q: %v", m[1], err)
		}
		if !strings.HasPrefix(to.EscapedPath(), "/admin/console/apis/a/users/") {
			t.Errorf("the form of user %q posts to %s, outside the user's API", evil, to.EscapedPath())
		}
		if strings.HasSuffix(to.Path, "/delete") {
			del = to.EscapedPath()
		}
	}
	u.post(del, nil)
	if a := e.admin("GET", "/apis/b/clients/"+victim, nil); a.Status != 200 {
		t.Errorf("client %s of api b after deleting user %q of api a: got %d, want 200", victim, evil, a.Status)
	}
}
