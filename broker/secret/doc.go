// Package secret generates and checks the broker's own credentials: client
// secrets (high-entropy, generated here, stored as a fast hash) and user
// passwords (chosen by people, stored as argon2id hashes).
//
// It imports the standard library and golang.org/x/crypto only.
package secret
