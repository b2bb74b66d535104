// Package connerr is what can go wrong with a connection, said without
// HTTP: the domain errors broker/connections returns (needs reauth,
// degraded, unavailable with a retry-after, not found, invalid input, too
// many states, scope refused, ...), and the one mapping of them to RFC
// 6749 answers (Answer), used by the broker's error renderer, its
// callback and connect page, and by broker/grants.
//
// It sits apart from connections so that connections, its tests and
// grants all reach the mapping without an import cycle, and without
// grants importing broker. It imports broker/protocol and the standard
// library only.
package connerr
