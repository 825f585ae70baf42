import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import type { Executor } from './schema.ts';
import { directConnection, runDirect } from './sqlite/direct-statements.ts';
import type { NodeSqliteDatabase } from './sqlite/node-sqlite-database.ts';
import { traitsOf } from './engine-traits.ts';
import type { AheadParameters } from './statement-marks.ts';
import { ANSWER_AHEAD } from './statement-marks.ts';

/** Where an argument's value goes: its index, then indexes into arrays and keys of objects. */
type Path = readonly (number | string)[];

interface Compiled {
  readonly query: CompiledQuery;
  /** For each bound parameter, the argument path it comes from, or a constant. */
  readonly slots: readonly ({ readonly path: Path } | { readonly value: unknown })[];
}

const MARK = '\u0000calpush:';
/** Shapes kept per query; beyond it the cache starts over (list lengths are bounded anyway). */
const MAX_SHAPES = 1024;

function mark(value: unknown, path: Path): unknown {
  if (Array.isArray(value)) return value.map((v, i) => mark(v, [...path, i]));
  if (value !== null && typeof value === 'object') {
    // An undefined property is left out, as the builder leaves it out (the column default).
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, mark(v, [...path, k])]),
    );
  }
  return `${MARK}${JSON.stringify(path)}`;
}

function resolve(args: readonly unknown[], path: Path): unknown {
  let value: unknown = args;
  for (const key of path) value = (value as Record<string | number, unknown>)[key];
  return value;
}

/**
 * The shape of a value: the lengths of its arrays and the keys of its objects that hold a
 * value, which change the SQL text. Built by appending, without intermediate arrays: it runs
 * on every call, over every value an insert binds.
 */
function shapeOf(value: unknown): string {
  if (value === undefined) return 'u';
  if (value === null || typeof value !== 'object') return '';
  if (Array.isArray(value)) return arrayShape(value as readonly unknown[]);
  let shape = '{';
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) shape += `${key}:${shapeOf(record[key])},`;
  return `${shape}}`;
}

/**
 * An array's items, run-length encoded (`shape*count`): a batch of 128 rows of one shape is
 * a short key rather than one the cache hashes over every row's copy. A row of plain values
 * is compared with the one before by its keys alone, without building its shape.
 */
function arrayShape(items: readonly unknown[]): string {
  let shape = `[${items.length}:`;
  let run = 0;
  let last = '';
  let lastKeys: string[] | null = null;
  for (const item of items) {
    const keys = plainRowKeys(item);
    if (run > 0 && keys !== null && lastKeys !== null && sameKeys(keys, lastKeys)) {
      run++;
      continue;
    }
    const itemShape = shapeOf(item);
    if (run > 0 && itemShape === last) {
      run++;
      lastKeys = keys;
      continue;
    }
    if (run > 0) shape += `${last}*${run},`;
    last = itemShape;
    lastKeys = keys;
    run = 1;
  }
  if (run > 0) shape += `${last}*${run},`;
  return `${shape}]`;
}

/** The keys of an object whose every value is a primitive or null (its shape is its keys). */
function plainRowKeys(item: unknown): string[] | null {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return null;
  const record = item as Record<string, unknown>;
  const keys = Object.keys(record);
  for (const key of keys) {
    const value = record[key];
    if (value === undefined || (value !== null && typeof value === 'object')) return null;
  }
  return keys;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The shape of a call: its arguments' shapes. */
function callShape(args: readonly unknown[]): string {
  let shape = '';
  for (const arg of args) shape += `${shapeOf(arg)}|`;
  return shape;
}

/** The values to bind for one call, in the compiled query's order. */
function bind(slots: Compiled['slots'], args: readonly unknown[]): unknown[] {
  const parameters = new Array<unknown>(slots.length);
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i];
    if (slot) parameters[i] = 'path' in slot ? resolve(args, slot.path) : slot.value;
  }
  return parameters;
}

export interface Prepared<A extends unknown[], R> {
  (db: Executor, ...args: A): Promise<QueryResult<R>>;
  /**
   * Sends the statement and goes on without its answer, which the promise gives later. In a
   * transaction on an engine that pipelines, the caller's next statement goes out right
   * behind it and both answers come back in one round trip; that statement fails with this
   * one's error if this one failed. Elsewhere it runs as a plain call. Either way a caller
   * that gives up on the transaction (throws) need not await it: its failure left unread is
   * not reported as unhandled.
   */
  sentAhead(db: Executor, ...args: A): Promise<QueryResult<R>>;
  /**
   * For a statement whose answer nobody reads: where `sentAhead` would pipeline it, it goes
   * out and the promise settles at once, the statement after it (at the latest the commit)
   * carrying its failure; elsewhere the promise settles when the statement has run.
   */
  unawaited(db: Executor, ...args: A): Promise<void>;
}

/**
 * A query built and compiled once per engine and argument shape, then run with fresh
 * arguments. Building a query with the SQL builder and compiling it costs more than SQLite
 * takes to run the small statements of the hot paths; this keeps the builder's safety for
 * writing them and pays for it once.
 *
 * `build` must use its arguments only as values bound into the query (no arithmetic, no
 * branching on them): it runs once with stand-ins that are recognised in the compiled
 * parameters. A stand-in that ends up inlined in the SQL text is refused when compiling.
 */
export function prepared<A extends unknown[], R>(
  build: (db: Executor, ...args: A) => Compilable<R>,
): Prepared<A, R> {
  const byEngine = new Map<unknown, Map<string, Compiled>>();

  function compile(db: Executor, args: A): Compiled {
    const marked = args.map((a, i) => mark(a, [i])) as A;
    const query = build(db, ...marked).compile();
    if (query.sql.includes(MARK)) throw new Error('prepared query inlines an argument');
    const slots = query.parameters.map((p) =>
      typeof p === 'string' && p.startsWith(MARK)
        ? { path: JSON.parse(p.slice(MARK.length)) as Path }
        : { value: p },
    );
    return { query, slots };
  }

  function compiledFor(db: Executor, args: A): Compiled {
    const engine = db.getExecutor().adapter.constructor;
    let shapes = byEngine.get(engine);
    if (!shapes) byEngine.set(engine, (shapes = new Map<string, Compiled>()));
    const shape = callShape(args);
    let compiled = shapes.get(shape);
    if (!compiled) {
      if (shapes.size >= MAX_SHAPES) shapes.clear();
      compiled = compile(db, args);
      shapes.set(shape, compiled);
    }
    return compiled;
  }

  const run = (db: Executor, ...args: A): Promise<QueryResult<R>> => {
    const compiled = compiledFor(db, args);
    const parameters = bind(compiled.slots, args);
    // In a SQLite transaction the statement runs on the connection at once: the executor's
    // connection hand-off and result plumbing cost more than the small statements it runs.
    const direct = directConnection(db);
    if (direct) return runDirectAsync<R>(direct, compiled.query.sql, parameters);
    return db.executeQuery<R>({ ...compiled.query, parameters });
  };

  /**
   * The answer, and the SQL builder's own outcome of the call: on a connection that takes the
   * mark it settles at once (the statement is on its way), elsewhere with the statement.
   */
  const send = (db: Executor, args: A) => {
    const compiled = compiledFor(db, args);
    const parameters: AheadParameters = bind(compiled.slots, args);
    let handed = false;
    let sent!: Promise<unknown>;
    const answer = new Promise<QueryResult<R>>((resolve, reject) => {
      parameters[ANSWER_AHEAD] = (driverAnswer) => {
        handed = true;
        driverAnswer.then((result) => resolve(asQueryResult(result)), reject);
      };
      // Where the connection did not take the mark (one that does not pipeline) this is the
      // answer itself; else it fails only if the statement could not be sent at all.
      sent = db.executeQuery<R>({ ...compiled.query, parameters }).then((result) => {
        if (!handed) resolve(result);
      });
      sent.catch(reject);
    });
    answer.catch(() => undefined);
    return { answer, sent };
  };

  const sentAhead = (db: Executor, ...args: A): Promise<QueryResult<R>> => {
    if (pipelinesOn(db)) return send(db, args).answer;
    const answer = run(db, ...args);
    answer.catch(() => undefined);
    return answer;
  };

  const unawaited = async (db: Executor, ...args: A): Promise<void> => {
    if (pipelinesOn(db)) await send(db, args).sent;
    else await run(db, ...args);
  };

  return Object.assign(run, { sentAhead, unawaited });
}

/**
 * Whether a statement on `db` may go out before the answers to those before it: inside a
 * transaction only, where the statement that carries its answer runs on the same connection.
 */
function pipelinesOn(db: Executor): boolean {
  return db.isTransaction && traitsOf(db).pipelines;
}

/** The driver's answer as the SQL builder would have given it (PostgreSQL's `pg`). */
function asQueryResult<R>(result: unknown): QueryResult<R> {
  const { command, rowCount, rows } = result as {
    command?: string;
    rowCount?: number | null;
    rows?: R[];
  };
  const counted = command === 'INSERT' || command === 'UPDATE' || command === 'DELETE';
  return {
    rows: rows ?? [],
    ...(counted ? { numAffectedRows: BigInt(rowCount ?? 0) } : {}),
  };
}

/** As a statement through the builder: a failure rejects the returned promise, never throws. */
function runDirectAsync<R>(
  database: NodeSqliteDatabase,
  sql: string,
  parameters: readonly unknown[],
): Promise<QueryResult<R>> {
  try {
    return Promise.resolve(runDirect<R>(database, sql, parameters));
  } catch (error) {
    // node:sqlite throws Error objects; anything else is wrapped so callers always get one.
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
