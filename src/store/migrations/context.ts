import type { CreateTableBuilder } from 'kysely';

/** The few things a migration must ask its engine, so one migration serves both. */
export interface MigrationContext {
  /** Adds an auto-incrementing integer primary key column. */
  autoId<T extends string>(
    table: CreateTableBuilder<T, never>,
    name?: string,
  ): CreateTableBuilder<T, string>;
}
