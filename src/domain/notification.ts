/**
 * A notification's kind is a word of its channel's dialect (`verification`, `change`, `sync`,
 * `exists`, …). The core only queues and coalesces by it: a channel has at most one pending
 * notification of each kind.
 */
export type NotificationKind = string;
