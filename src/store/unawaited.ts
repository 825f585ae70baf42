/**
 * Marks a statement whose answer its caller does not read, such as a lock: where the engine
 * can (PostgreSQL, which pipelines a connection's statements), the statement goes out at
 * once and the caller goes on without waiting for the answer. The next statement on the
 * connection goes out right behind it, runs after it on the server, and reports its failure
 * if it failed: a lock that timed out fails the statement that needed it, and the
 * transaction with it. Elsewhere the mark is a comment and the statement runs as any other.
 */
export const ANSWER_UNAWAITED = '/* answer unawaited */ ';

export function isUnawaited(text: string): boolean {
  return text.startsWith(ANSWER_UNAWAITED);
}
