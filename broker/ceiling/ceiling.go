package ceiling

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/tokens"
)

// Paths of the two routes New serves (POST only).
const (
	BarePath = "/gin/ceiling"
	SignPath = "/gin/sign-ceiling"
)

// New returns a Gin engine, without middleware, with the two ceiling
// routes: BarePath answers body as application/json; SignPath reads the
// form and the Basic credentials, signs seven claims with ES256 and
// answers the token as JSON.
func New(body []byte) (http.Handler, error) {
	signer, err := tokens.NewSigner("ES256")
	if err != nil {
		return nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.POST(BarePath, func(c *gin.Context) { c.Data(http.StatusOK, "application/json", body) })
	e.POST(SignPath, func(c *gin.Context) {
		user, _, _ := c.Request.BasicAuth()
		now := time.Now().Unix()
		claims, _ := json.Marshal(map[string]any{
			"iss": "http://127.0.0.1/ceiling", "sub": user, "aud": "ceiling", "iat": now, "exp": now + 900,
			"jti": strconv.FormatInt(time.Now().UnixNano(), 36), "scope": c.PostForm("scope"),
		})
		tok, err := signer.Sign(claims)
		if err != nil {
			c.Status(http.StatusInternalServerError)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": tok, "token_type": "Bearer", "expires_in": 900})
	})
	return e, nil
}
