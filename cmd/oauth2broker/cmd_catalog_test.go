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
	if code := run([]string{"providers", "show", "nope"}, &out, &errb); code == exitOK {
		t.Errorf("providers show nope: exit 0, want an error")
	}
}
