// Package secret generates and checks the broker's own credentials: client
// secrets (high-entropy, generated here, stored as a fast hash) and user
// passwords (chosen by people, stored as argon2id hashes).
//
// It imports broker/seal (client-secret hashes are keyed with the
// encryption keyring), golang.org/x/crypto and the standard library only;
// never storage or broker.
package secret
