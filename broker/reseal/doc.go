// Package reseal seals again, after an encryption-key rotation, every
// value sealed under an older key of the ring: signing keys, upstream
// client secrets, webhook secrets (one table, one row per seal label
// that outlives a rotation), and, through the connection manager, the
// connections' token sets. Each record is rewritten in its own
// compare-and-swap update, so several replicas may run it at once.
// RunAtStart retries until a run goes through, for the broker's start.
//
// It imports broker/jobs, broker/seal and storage; never broker, another broker
// package, a storage backend or a provider.
package reseal
