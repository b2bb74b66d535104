package events

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// Webhook signatures follow Standard Webhooks (standardwebhooks.com):
//
//	webhook-id: <event id, the same on every retry>
//	webhook-timestamp: <unix seconds of this attempt>
//	webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")> [v1,<…> …]
//
// A secret is "whsec_" + base64 of 32 random bytes, and the key is those
// bytes. During a rotation's grace period the delivery carries one
// signature per live secret, so a receiver holding either verifies it.
//
// A secret made before Standard Webhooks (no "whsec_" prefix) keys the
// HMAC with its own bytes, and its deliveries also carry the former
// X-OAuth2Broker-Signature header (t=<timestamp>,v1=<hex HMAC of
// "<timestamp>.<body>">), so that existing receivers keep working until
// the secret is rotated.
const secretPrefix = "whsec_"

// key is the HMAC key of a secret.
func key(secret string) []byte {
	if rest, ok := strings.CutPrefix(secret, secretPrefix); ok {
		if key, err := base64.StdEncoding.DecodeString(rest); err == nil {
			return key
		}
	}
	return []byte(secret)
}

// signature is the webhook-signature header value: one v1 signature per
// secret.
func signature(secrets []string, id, ts string, body []byte) string {
	sigs := make([]string, len(secrets))
	for i, sec := range secrets {
		mac := hmac.New(sha256.New, key(sec))
		mac.Write([]byte(id + "." + ts + "."))
		mac.Write(body)
		sigs[i] = "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}
	return strings.Join(sigs, " ")
}

// secrets opens the secrets that sign a delivery at now: the current one
// first, then the replaced one while its grace period lasts.
func (s *Stream) secrets(cl storage.Client, now time.Time) ([]string, error) {
	ad := WebhookSecretAD(cl.API, cl.ID)
	cur, err := s.keyring.Open(cl.SealedWebhookSecret, ad)
	if err != nil {
		return nil, err
	}
	out := []string{string(cur)}
	if len(cl.SealedOldWebhookSecret) > 0 && now.Before(cl.OldWebhookSecretUntil) {
		old, err := s.keyring.Open(cl.SealedOldWebhookSecret, ad)
		if err != nil {
			return nil, err
		}
		out = append(out, string(old))
	}
	return out, nil
}

// signRequest sets the signature headers of one delivery attempt.
func signRequest(req *http.Request, secrets []string, id string, body []byte, now time.Time) {
	ts := strconv.FormatInt(now.Unix(), 10)
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", signature(secrets, id, ts, body))
	var legacy []string
	for _, sec := range secrets {
		if !strings.HasPrefix(sec, secretPrefix) {
			mac := hmac.New(sha256.New, []byte(sec))
			mac.Write([]byte(ts + "."))
			mac.Write(body)
			legacy = append(legacy, "v1="+hex.EncodeToString(mac.Sum(nil)))
		}
	}
	if len(legacy) > 0 {
		req.Header.Set("X-OAuth2Broker-Signature", "t="+ts+","+strings.Join(legacy, ","))
	}
}
