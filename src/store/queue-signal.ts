/**
 * Tells the nodes that share a store that notifications were queued. A node's own writes
 * wake its dispatcher directly; this reaches the others. One process on SQLite has none.
 */
export interface QueueSignal {
  /** Calls `onSignal` on every signal from any node (this one included). */
  listen(onSignal: () => void): void;
  /** Sends a signal; signals sent close together may arrive as one. */
  signal(): void;
  close(): Promise<void>;
}
