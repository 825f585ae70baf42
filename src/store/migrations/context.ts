import type { CreateTableBuilder } from 'kysely';
import type { SecretSealer } from '../../domain/secrets.ts';

/** The few things a migration must ask its engine, so one migration serves both. */
export interface MigrationContext extends EngineMigrationContext {
  /** Seals secrets kept in clear by older versions; without it, a store holding any fails. */
  readonly sealer?: SecretSealer | undefined;
}

/** What DDL spells differently on each engine. */
export interface EngineMigrationContext {
  /** Adds an auto-incrementing integer primary key column. */
  autoId<T extends string>(
    table: CreateTableBuilder<T, never>,
    name?: string,
  ): CreateTableBuilder<T, string>;
  /**
   * The statements that make the database add one to `counter`'s single row (`count`, where
   * `id` is 1) whenever a row of `table` goes away or has its `token_hash` or `account_id`
   * rewritten, whoever does it: triggers.
   */
  tokenRevocationCounter(table: string, counter: string): string[];
}
