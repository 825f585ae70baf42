import { isValidTimeZone } from '../../domain/time.ts';
// A table of names, no I/O: the same one the iCalendar reader maps Outlook's TZIDs with.
import { windowsZones } from '../../sources/ical/windows-zones.ts';

/**
 * The IANA zone a Graph time zone names: Graph clients write Windows names ("Pacific
 * Standard Time"), IANA names or "UTC". Undefined for a name neither knows.
 */
export function ianaZone(name: string): string | undefined {
  if (name === 'UTC' || name === 'tzone://Microsoft/Utc') return 'Etc/UTC';
  const mapped = windowsZones.get(name);
  if (mapped) return mapped;
  return isValidTimeZone(name) ? name : undefined;
}

/**
 * The zone a `Prefer: outlook.timezone="…"` header asks reads to be written in; UTC (as
 * Graph answers without one) when absent or unknown.
 */
export function preferredZone(prefer: string | undefined): { name: string; iana: string } {
  const m = /outlook\.timezone\s*=\s*"([^"]+)"/i.exec(prefer ?? '');
  const name = m?.[1];
  const iana = name === undefined ? undefined : ianaZone(name);
  return name !== undefined && iana !== undefined
    ? { name, iana }
    : { name: 'UTC', iana: 'Etc/UTC' };
}
