package catalog

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/oauth2broker/oauth2broker/providers"
)

// A provider of an unknown type is refused by its type and name, not as
// an unknown template with an empty name.
func TestOpenerUnknownType(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Opener(nil, nil)(context.Background(), providers.Config{Name: "corp", Type: "saml", ClientID: "c"})
	if !errors.Is(err, providers.ErrUnknownType) || errors.Is(err, providers.ErrUnknownTemplate) ||
		!strings.Contains(err.Error(), `corp`) || !strings.Contains(err.Error(), `"saml"`) {
		t.Errorf("got %v, want ErrUnknownType naming corp and \"saml\"", err)
	}
	_, err = c.Opener(nil, nil)(context.Background(), providers.Config{Name: "gh", Template: "nosuch", ClientID: "c"})
	if !errors.Is(err, providers.ErrUnknownTemplate) || !strings.Contains(err.Error(), `"nosuch"`) {
		t.Errorf("got %v, want ErrUnknownTemplate naming \"nosuch\"", err)
	}
}
