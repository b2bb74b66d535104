// Package providers describes upstream authorization servers. Config is
// the one description of a provider: the settings a catalog entry
// completes, an admin PUT and a YAML declaration carry, storage keeps as
// opaque JSON (Encode, Decode) beside the sealed client secret, and View
// shows (admin answers, the CLI). Config.Validate checks the shape of
// every setting, naming the field. The upstream flows themselves (the
// Provider interface and its implementations in providers/oauth,
// providers/oidc and providers/catalog) build on it.
//
// It imports the standard library only; never broker or storage.
package providers
