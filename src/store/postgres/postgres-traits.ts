import type { EngineTraits } from '../engine-traits.ts';

/** A server several nodes share, with concurrent writers and a connection pool. */
export const postgresTraits: EngineTraits = Object.freeze({
  concurrentWriters: true,
  keepsStatementTexts: false,
  writesInWith: true,
  pipelines: true,
  claimKey: 'id',
  singleNode: false,
  groupCommit: false,
  bytewiseCollation: 'C',
  leaseClock: 'database',
});
