import { fuzzSuite } from './support/fuzz-suite.ts';

// The fuzzer on PostgreSQL: what one engine accepts the other may refuse (NUL in text did).
fuzzSuite('postgres', 500);
