package proxy

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/connerr"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// resolve finds the provider's API bases and the target URL of the
// request under the chosen one.
func (p *Proxy) resolve(c *gin.Context, k *call) error {
	sp, err := p.cfg.Store.GetProvider(c.Request.Context(), k.api.Name, k.provider)
	if errors.Is(err, storage.ErrNotFound) {
		return connerr.New(connerr.Invalid, "unknown provider")
	}
	if err != nil {
		return err
	}
	c.Set(providerKey, sp.Name)
	cfg, err := providers.Decode(sp.Name, sp.Config)
	if err != nil {
		return err
	}
	raw, err := p.cfg.APIBases(cfg)
	if err != nil {
		return protocol.ErrServerError.WithCause(err)
	}
	chosen := -1
	for i, r := range raw {
		u, err := url.Parse(r)
		if err != nil || u.Host == "" || u.RawQuery != "" || u.User != nil {
			return protocol.ErrServerError.WithCause(fmt.Errorf("proxy: provider %s: api base %d is not a URL", sp.Name, i))
		}
		k.bases = append(k.bases, u)
		if want := c.GetHeader(HeaderBase); want == r || (want == "" && i == 0) {
			chosen = i
		}
	}
	if len(k.bases) == 0 {
		return protocol.ErrInvalidRequest.WithDescription("provider has no api_base_urls: the proxy cannot reach it")
	}
	if chosen < 0 {
		return protocol.ErrInvalidRequest.WithDescription(HeaderBase + " is not one of the provider's api_base_urls")
	}
	prefix := "/" + url.PathEscape(k.api.Name) + "/oauth2/proxy/" + url.PathEscape(k.provider)
	rest, ok := strings.CutPrefix(c.Request.URL.EscapedPath(), prefix)
	if !ok {
		return errBadPath
	}
	k.target, err = target(k.bases[chosen], rest, c.Request.URL.RawQuery)
	return err
}

// body is the request body to forward: buffered whole (replayable) when
// it fits the replay bound, else streamed once.
type body struct {
	buf    []byte    // the whole body, when replayable
	stream io.Reader // the body, when not
	size   int64     // its length, -1 when unknown
}

func (b *body) replayable() bool { return b.stream == nil }

// reader returns the body for one upstream request.
func (b *body) reader() io.Reader {
	if b.stream != nil {
		return b.stream
	}
	return strings.NewReader(string(b.buf))
}

// errTooLarge answers a request body over the proxy's bound.
func errTooLarge(limit int64) *protocol.Error {
	return protocol.ErrRequestTooLarge.WithDescription(fmt.Sprintf("request body is larger than %d bytes", limit))
}

// readBody bounds the request body to limit and buffers up to replay
// bytes of it.
func readBody(c *gin.Context, limit, replay int64) (*body, error) {
	r := c.Request
	if r.ContentLength > limit {
		return nil, errTooLarge(limit)
	}
	if r.Body == nil || r.Body == http.NoBody {
		return &body{size: 0}, nil
	}
	in := http.MaxBytesReader(c.Writer, r.Body, limit)
	buf, err := io.ReadAll(io.LimitReader(in, replay+1))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errTooLarge(limit)
		}
		return nil, protocol.ErrInvalidRequest.WithDescription("request body could not be read")
	}
	if int64(len(buf)) <= replay {
		return &body{buf: buf, size: int64(len(buf))}, nil
	}
	return &body{stream: io.MultiReader(strings.NewReader(string(buf)), in), size: r.ContentLength}, nil
}
