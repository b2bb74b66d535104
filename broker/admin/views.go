package admin

// The shapes of the admin API's answers, for Go code that reads them
// in-process (broker/console): the very types the handlers write, so a
// reader cannot drift from the writer.
type (
	// APIView is an API in admin answers.
	APIView = apiView
	// ClientView is a client in admin answers.
	ClientView = clientView
	// UserView is a user of the password grant in admin answers.
	UserView = userView
	// KeyView is a signing key in admin answers.
	KeyView = keyView
	// AdminKeyView is an admin key in admin answers (Key only when
	// created).
	AdminKeyView = adminKeyView
	// ThrottleView is a username's login throttle, as one replica knows it.
	ThrottleView = throttleView
)
