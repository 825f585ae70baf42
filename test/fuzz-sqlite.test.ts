import { fuzzSuite } from './support/fuzz-suite.ts';

// The fuzzer (test/support/fuzz-suite.ts) on SQLite, the default store.
fuzzSuite('sqlite', 1000);
