/** Graph writes instants with seven fractional digits: `2026-12-01T09:00:00.0000000Z`. */
export function graphInstant(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/** A wall-clock time as Graph writes one next to its zone: no offset, seven digits. */
export function graphLocal(isoLocal: string): string {
  const [whole = '', fraction = ''] = isoLocal.split('.');
  const seconds = whole.length === 16 ? `${whole}:00` : whole;
  return `${seconds}.${fraction.padEnd(7, '0').slice(0, 7)}`;
}
