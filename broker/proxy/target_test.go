package proxy

import (
	"net/url"
	"strings"
	"testing"
)

// TestTargetRefusesDotSegmentForms covers the dot segments that some
// upstream servers see where path.Clean does not: path parameters
// ("..;", Tomcat and Spring), trailing spaces and dots only.
func TestTargetRefusesDotSegmentForms(t *testing.T) {
	base, _ := url.Parse("https://api.example.com/api/v4")
	for _, rest := range []string{"/..;/admin", "/a/..;x=1/..;/b", "/..%3B/admin", "/.;/x", "/..%20/admin", "/.../x"} {
		if u, err := target(base, rest, ""); err == nil {
			t.Errorf("%s: got %s, want refused", rest, u)
		}
	}
	for _, rest := range []string{"/projects/a;b", "/v1.2/x", "/a..b", "/files/.hidden"} {
		if _, err := target(base, rest, ""); err != nil {
			t.Errorf("%s: got %v, want allowed", rest, err)
		}
	}
}

// TestTargetAtSignNeverChangesHost: "@" is allowed in a path, and no
// form of it, raw or encoded, after "//", an encoded slash or a dot
// segment, makes a URL whose host (as built, and as parsed again from
// its string) is not the base's, or that has userinfo.
func TestTargetAtSignNeverChangesHost(t *testing.T) {
	for _, raw := range []string{"https://graph.example.com", "https://graph.example.com/v1.0", "https://graph.example.com/v1.0/"} {
		base, _ := url.Parse(raw)
		for _, rest := range []string{
			"//evil@host/x", "@host", "@host/x", "/@host", "/%2F%2Fevil@host", "/%2f%2fevil%40host", "/..@host", "/../@host",
			"/a/..%40host", "/%40host", "/u:p@host/x", "/:@host", "/%2e%2e@host", "/.@host", "/users/a@b.com", "/@@host",
			"/x?@host", "/x#@host", "/%23@host", "/%3F@host", "/\\@host",
		} {
			u, err := target(base, rest, "q=@host")
			if err != nil {
				continue
			}
			again, err := url.Parse(u.String())
			if err != nil {
				t.Errorf("%s under %s: got %s, which does not parse", rest, raw, u)
				continue
			}
			for _, got := range []*url.URL{u, again} {
				if got.Host != base.Host || got.User != nil || !strings.HasPrefix(got.Path, strings.TrimSuffix(base.Path, "/")+"/") {
					t.Errorf("%s under %s: got host %q user %v path %q, want on %s", rest, raw, got.Host, got.User, got.Path, base.Host)
				}
			}
		}
	}
}

// TestTargetAllowsAtSign: Microsoft Graph addresses a user by name,
// "@" raw or encoded.
func TestTargetAllowsAtSign(t *testing.T) {
	base, _ := url.Parse("https://graph.microsoft.com/v1.0")
	for _, rest := range []string{"/users/a@b.com", "/users/a%40b.com"} {
		u, err := target(base, rest, "")
		if err != nil {
			t.Errorf("%s: got %v, want allowed", rest, err)
			continue
		}
		if u.Host != "graph.microsoft.com" || u.Path != "/v1.0/users/a@b.com" {
			t.Errorf("%s: got %s, want https://graph.microsoft.com/v1.0/users/a@b.com", rest, u)
		}
	}
}
