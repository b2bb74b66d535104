// Package events owns the broker's one stream of events: the audit trail
// of administrative changes and connection events, and the signed,
// retried delivery of connection events to the webhooks of clients.
//
// The admin API and the connection flows emit into it ([Stream.Emit]);
// every event is audited, and a connection event of a client with a
// webhook_url is stored, then POSTed with Standard Webhooks signatures
// until a 2xx answer or twelve attempts ([Stream.Run]). With replicas, a
// compare-and-swap on the stored event lets one of them deliver it. A
// delivered or given-up event is kept a day with its outcome, so that
// operators can list a client's deliveries and retry one now
// ([Stream.ListDeliveries], [Stream.RetryNow]).
// Payloads never carry tokens; logs never carry secrets or webhook URLs.
//
// It also owns webhook secrets: their format, their sealing label
// ([WebhookSecretAD]) and their rotation with a grace period.
//
// It imports storage, broker/seal, outbound and the standard library;
// never gin or broker.
package events
