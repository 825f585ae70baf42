import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectionUrl, hrefPath, samePath, shownUrl } from './href.ts';

const base = 'https://dav.example/cal/home/';

test('one resource written several ways is one key', () => {
  const ways = [
    '/cal/home/meet@example.com.ics',
    '/cal/home/meet%40example.com.ics',
    'https://dav.example/cal/home/meet%40example.com.ics',
    'meet@example.com.ics',
    ' /cal/home/meet%40example.com.ics\n',
  ];
  for (const href of ways) assert.equal(hrefPath(href, base), '/cal/home/meet@example.com.ics');
});

test('what a path segment may not hold stays escaped, in one spelling', () => {
  assert.equal(hrefPath('/a b/c%2fd.ics', base), '/a%20b/c%2Fd.ics');
  assert.equal(hrefPath('/caf%C3%A9.ics', base), '/caf%C3%A9.ics');
  assert.equal(hrefPath('/café.ics', base), '/caf%C3%A9.ics');
  // An escape that is not UTF-8 is kept as the server wrote it.
  assert.equal(hrefPath('/bad%FF.ics', base), '/bad%FF.ics');
});

test('a collection URL ends in a slash', () => {
  assert.equal(collectionUrl('/cal/work', base), 'https://dav.example/cal/work/');
  assert.equal(
    collectionUrl('https://dav.example/cal/work/', base),
    'https://dav.example/cal/work/',
  );
});

test('a collection is the same with or without its trailing slash', () => {
  assert.ok(samePath('/cal/work', '/cal/work/'));
  assert.ok(!samePath('/cal/work', '/cal/work2/'));
});

test('a URL shown in a message has no credentials', () => {
  assert.equal(shownUrl('https://ann:s3cret@dav.example/x'), 'https://dav.example/x');
});
