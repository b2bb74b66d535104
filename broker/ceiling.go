package broker

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	jose "github.com/go-jose/go-jose/v4"
)

const (
	ceilingPrefix = `{"access_token":"`
	ceilingSuffix = `","token_type":"Bearer","expires_in":3600}`
)

// CeilingBody is the constant 200-byte JSON answer of the ceiling routes.
var CeilingBody = []byte(ceilingPrefix + strings.Repeat("x", 200-len(ceilingPrefix)-len(ceilingSuffix)) + ceilingSuffix)

// NewCeiling returns a bare Gin engine with one POST route, /ceiling, that
// answers CeilingBody: the HTTP ceiling the bench compares the broker's
// workloads with. With sign set, each request also makes one ES256
// signature (the floor of issuing a fresh JWT per request).
func NewCeiling(sign bool) (http.Handler, error) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	var signer jose.Signer
	if sign {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		if signer, err = jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, nil); err != nil {
			return nil, err
		}
	}
	e.POST("/ceiling", func(c *gin.Context) {
		if signer != nil {
			if _, err := signer.Sign(CeilingBody); err != nil {
				c.Status(http.StatusInternalServerError)
				return
			}
		}
		c.Data(http.StatusOK, "application/json", CeilingBody)
	})
	return e, nil
}
