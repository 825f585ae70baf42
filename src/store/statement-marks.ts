/**
 * Marks a statement the engine must plan with each call's values (PostgreSQL then sends it
 * unnamed): one whose best plan depends on the values bound, such as the claim's range over
 * due times and its limit, which a plan kept across calls would have to guess.
 */
export const PLANNED_PER_CALL = ' /* planned per call */';

export function isPlannedPerCall(text: string): boolean {
  return text.endsWith(PLANNED_PER_CALL);
}

/**
 * Marks a statement's parameters as those of one sent ahead (`prepared(…).sentAhead`,
 * `.unawaited`: a lock, a read needed later, a write whose answer nobody reads). Where the
 * engine can (PostgreSQL, which pipelines a connection's statements), the statement goes out
 * at once and the caller goes on; the next statement on the connection goes out right behind
 * it, runs after it on the server, and reports its failure if it failed (a lock that timed
 * out fails the statement that needed it, and the transaction with it). Its answer, when it
 * comes, goes to the function the mark holds. Carried on the parameters, which reach the
 * connection as they are, so the statement's text (and its name) stays the same.
 */
export const ANSWER_AHEAD = Symbol('answer ahead');

/** Parameters that may carry `ANSWER_AHEAD`; the answer is the driver's own result. */
export type AheadParameters = unknown[] & {
  [ANSWER_AHEAD]?: (answer: Promise<unknown>) => void;
};

export function answerAheadOf(values: unknown): ((answer: Promise<unknown>) => void) | undefined {
  return Array.isArray(values) ? (values as AheadParameters)[ANSWER_AHEAD] : undefined;
}
