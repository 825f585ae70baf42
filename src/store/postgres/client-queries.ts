import type pg from 'pg';
import type { Socket } from 'node:net';
import { isStalePlan, namedQuery } from './named-statements.ts';
import { answerAheadOf } from '../statement-marks.ts';

/** pg's error when `query_timeout` passes with no answer. */
const isUnanswered = (err: unknown) => err instanceof Error && err.message === 'Query read timeout';

/** What the SQL builder is told of a statement whose answer nobody waits for. */
const NOT_WAITED_FOR = Object.freeze({ command: '', rowCount: null, rows: [], fields: [] });

/**
 * `begin` goes out with the statement after it: its answer carries nothing, and the driver
 * would otherwise wait a round trip for it before sending the transaction's first statement.
 * It can only fail on a connection that is failing, which fails the statements behind it too.
 */
const isBegin = (text: string) => text === 'begin';

/**
 * Waits for every answer; fails with the first failure in the order the statements were
 * sent (an error of a lock, not the "transaction is aborted" of the statement behind it),
 * else gives the last answer.
 */
async function inSentOrder(answers: readonly Promise<unknown>[]): Promise<unknown> {
  const settled = await Promise.allSettled(answers);
  for (const answer of settled) if (answer.status === 'rejected') throw answer.reason;
  const last = settled.at(-1);
  return last?.status === 'fulfilled' ? last.value : undefined;
}

/**
 * A statement sent without waiting for its answer is held in the socket's buffer until the
 * statement that carries its answer is sent: both go out in one write. On this path each
 * write is a system call that also wakes the server's process, and on a loopback connection
 * it was the largest part of a node's CPU per statement. Whatever holds the buffer, it is
 * written out before the event loop next waits (`setImmediate`), so nothing stays held while
 * a caller waits for something else.
 */
function heldWrites(stream: () => Socket) {
  let holding: Socket | undefined;
  const release = () => {
    const held = holding;
    holding = undefined;
    held?.uncork();
  };
  return {
    hold() {
      if (holding) return;
      holding = stream();
      holding.cork();
      setImmediate(release);
    },
    release,
  };
}

/**
 * Each connection's queries, as the SQL builder sends them; returns how many answers nobody
 * has waited for yet:
 * - statements with parameters go named (see named-statements.ts);
 * - `begin` and statements marked `ANSWER_AHEAD` (whose answer goes to the mark's own
 *   function) are sent at once and reported done; the next statement goes out
 *   right behind them, in the same write (the pool's connections pipeline), and waits for
 *   their answers with its own, failing with their error if one failed. A rollback takes no
 *   error from them: the transaction is ending, and the error that ended it was reported.
 * - a query that got no answer in time fails (pg's `query_timeout`), but pg keeps the
 *   connection, with the statement still outstanding on it, and the pool would hand it out
 *   again: every later query on it would wait as long. It is closed instead, so the pool
 *   replaces it; its session's transaction, if any, ends on the server. So is a connection
 *   whose named statement went stale.
 */
export function wrapQueries(client: pg.PoolClient): () => number {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const named = new Set<string>();
  /** Statements sent whose answers nobody has waited for yet, in the order sent. */
  let unanswered: Promise<unknown>[] = [];
  const stream = () => (client as unknown as { connection: { stream: Socket } }).connection.stream;
  const close = () => stream().destroy();
  const held = heldWrites(stream);
  const send = (args: unknown[]): unknown => {
    const [text, values] = args;
    const asNamed =
      args.length === 2 && typeof text === 'string' && Array.isArray(values)
        ? namedQuery(named, text, values)
        : undefined;
    const result = asNamed ? query(asNamed) : query(...args);
    if (result instanceof Promise) {
      result.catch((err: unknown) => {
        if (isUnanswered(err) || isStalePlan(err)) close();
      });
    }
    return result;
  };
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
    const [text] = args;
    const plain = args.length <= 2 && typeof text === 'string';
    const answerAhead = plain ? answerAheadOf(args[1]) : undefined;
    if (plain && (isBegin(text) || answerAhead)) {
      held.hold();
      const sent = Promise.resolve(send(args));
      // Reported by the statement that carries it, if any comes.
      sent.catch(() => undefined);
      unanswered.push(sent);
      // Its answer, too, is the first failure among those sent before it, if any.
      answerAhead?.(inSentOrder(unanswered));
      return Promise.resolve(NOT_WAITED_FOR);
    }
    const result = send(args);
    held.release();
    const carried = unanswered;
    unanswered = [];
    if (carried.length === 0 || !(result instanceof Promise) || (plain && text === 'rollback'))
      return result;
    return inSentOrder([...carried, result]);
  };
  return () => unanswered.length;
}
