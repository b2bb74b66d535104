package proxy

import (
	"net/url"
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
