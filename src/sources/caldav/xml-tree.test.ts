import assert from 'node:assert/strict';
import { test } from 'node:test';
import { childOf, ns, parseXml } from './xml-tree.ts';

test('names are read by namespace, whatever the prefixes', () => {
  const root = parseXml(
    '<m xmlns="DAV:" xmlns:x="urn:ietf:params:xml:ns:caldav">' +
      '<x:calendar/><y:calendar xmlns:y="DAV:"/><calendar xmlns="http://apple.com/ns/ical/"/></m>',
    'test',
  );
  assert.deepEqual(
    root.children.map((c) => `${c.ns} ${c.name}`),
    [`${ns.caldav} calendar`, `${ns.dav} calendar`, `${ns.apple} calendar`],
  );
  assert.equal(root.ns, ns.dav);
});

test('text keeps character references, entities and CDATA', () => {
  const root = parseXml('<a>X&#13;&#10;&amp;&lt;<![CDATA[&amp;]]></a>', 'test');
  assert.equal(root.text, 'X\r\n&<&amp;');
  assert.equal(childOf(root, '', 'b'), undefined);
});
