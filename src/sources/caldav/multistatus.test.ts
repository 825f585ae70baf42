import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SourceError } from '../../domain/source.ts';
import { parseMultistatus, propText } from './multistatus.ts';
import { ns } from './xml-tree.ts';

test('a multistatus gives each response its href, status and found properties', () => {
  const body = Buffer.from(
    '<d:multistatus xmlns:d="DAV:"><d:response><d:href>/a.ics</d:href><d:propstat>' +
      '<d:prop><d:getetag>"1"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status>' +
      '</d:propstat><d:propstat><d:prop><d:displayname/></d:prop>' +
      '<d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>' +
      '<d:response><d:href>/b.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status>' +
      '</d:response><d:sync-token>t2</d:sync-token></d:multistatus>',
  );
  const { responses, syncToken } = parseMultistatus(body, 'test');
  assert.equal(syncToken, 't2');
  assert.deepEqual(
    responses.map((r) => [r.href, r.status, r.found.map((p) => p.name)]),
    [
      ['/a.ics', null, ['getetag']],
      ['/b.ics', 404, []],
    ],
  );
  assert.equal(propText(responses[0]!, ns.dav, 'getetag'), '"1"');
  assert.equal(propText(responses[0]!, ns.dav, 'displayname'), null);
});

test('what is not XML, or not a multistatus, is malformed', () => {
  for (const body of ['<a><b></a>', 'not xml', '', '<error xmlns="DAV:"/>']) {
    assert.throws(
      () => parseMultistatus(Buffer.from(body), 'test'),
      (err) => err instanceof SourceError && err.kind === 'malformed',
      body,
    );
  }
});
