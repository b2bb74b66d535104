package demomcp

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
)

// A token is only good at the resource it was bound to (RFC 8707 §2).
func TestTokenBoundToResource(t *testing.T) {
	d, err := New(Config{BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	mine := d.store.newAccessToken(grant{subject: "u", scopes: []string{ToolsScope}, resource: d.Resource}, exp)
	other := d.store.newAccessToken(grant{subject: "u", scopes: []string{ToolsScope}, resource: "http://127.0.0.1:2/mcp"}, exp)
	req, _ := http.NewRequest(http.MethodPost, d.Resource, nil)
	if ti, err := d.verifyToken(context.Background(), mine, req); err != nil || ti.UserID != "u" {
		t.Errorf("token for this resource: got %v, %v", ti, err)
	}
	if _, err := d.verifyToken(context.Background(), other, req); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("token for another resource: got %v, want ErrInvalidToken", err)
	}
}
