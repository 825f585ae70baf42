import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timeZoneId } from './calendar-props.ts';

test("a calendar-timezone's TZID, folded lines included", () => {
  const vtimezone =
    'BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:America/Argentina/\r\n Buenos_Aires\r\nEND:VTIMEZONE\r\nEND:VCALENDAR';
  assert.equal(timeZoneId(vtimezone), 'America/Argentina/Buenos_Aires');
  assert.equal(timeZoneId('BEGIN:VCALENDAR\nEND:VCALENDAR'), null);
  assert.equal(timeZoneId(null), null);
});
