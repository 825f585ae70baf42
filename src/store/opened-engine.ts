import type { Db } from './schema.ts';
import type { EngineTraits } from './engine-traits.ts';
import type { EngineMigrationContext } from './migrations/context.ts';
import type { QueueSignal } from './queue-signal.ts';

export type Engine = 'sqlite' | 'postgres';

/** What an engine folder's `open…` hands `openStore`: a SQL builder on it, and its ways. */
export interface OpenedEngine {
  readonly engine: Engine;
  readonly db: Db;
  /** Where delivery's statements run, when not on `db` (a pool of their own). */
  readonly deliveryDb?: Db;
  /** Where the data lives, for operators and the benchmark's footprint figures. */
  readonly location: string;
  readonly traits: EngineTraits;
  /** How the shared migrations say what differs in DDL (auto-incrementing keys). */
  readonly migrationContext: EngineMigrationContext;
  /**
   * Where migrations run, when not on `db`: PostgreSQL's service connections bound every
   * statement, and a migration over a large table may take longer than any such bound.
   */
  readonly migrationDb?: Db;
  /** Reaches the other nodes of a shared store (PostgreSQL). */
  readonly queueSignal?: QueueSignal;
  /** Settings that suit the running service but not the migrations; once they have run. */
  migrated(): void;
  /** Settles once everything the engine holds beside the builder has let go. */
  closed(): Promise<void>;
}
