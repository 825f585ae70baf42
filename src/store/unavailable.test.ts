import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isStoreUnavailable } from './unavailable.ts';

const pgError = (code: string, message = 'error') => Object.assign(new Error(message), { code });

test('a lost connection, a refused one or a bound reached is the store being unavailable', () => {
  for (const err of [
    pgError('57P01', 'terminating connection due to administrator command'),
    pgError('25P03', 'terminating connection due to idle-in-transaction timeout'),
    pgError('55P03', 'canceling statement due to lock timeout'),
    pgError('57014', 'canceling statement due to statement timeout'),
    pgError('08006'),
    pgError('ECONNREFUSED'),
    new Error('Connection terminated unexpectedly'),
    new Error('timeout exceeded when trying to connect'),
    new Error('Client has encountered a connection error and is not queryable'),
    new Error('Query read timeout'),
    new Error('wrapped', { cause: pgError('57P03', 'the database system is starting up') }),
  ]) {
    assert.equal(isStoreUnavailable(err), true, err.message);
  }
});

test('anything else is not: a constraint, a bad value, a plain error, no error', () => {
  for (const err of [
    pgError('23505', 'duplicate key value violates unique constraint'),
    pgError('22P02', 'invalid input syntax'),
    new Error('no such calendar'),
    'Connection terminated unexpectedly',
    undefined,
  ]) {
    assert.equal(isStoreUnavailable(err), false, String(err));
  }
});
