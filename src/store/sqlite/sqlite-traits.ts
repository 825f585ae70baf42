import type { EngineTraits } from '../engine-traits.ts';

/** One file, one connection, one writer at a time, one process (see EngineTraits). */
export const sqliteTraits: EngineTraits = Object.freeze({
  concurrentWriters: false,
  keepsStatementTexts: true,
  writesInWith: false,
  pipelines: false,
  claimKey: 'rowid',
  singleNode: true,
  groupCommit: true,
  bytewiseCollation: null,
  leaseClock: 'node',
});
