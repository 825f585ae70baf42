import { timingSafeEqual } from 'node:crypto';

/**
 * Whether two secrets (tokens, signatures, CSRF values) are equal, compared in constant time
 * for equal lengths: how long the comparison takes tells a guesser nothing of how much of a
 * guess was right.
 */
export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
