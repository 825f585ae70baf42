import { createHash, timingSafeEqual } from 'node:crypto';

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

/**
 * As `sameText`, in constant time whatever the lengths (both are hashed first): for a secret
 * whose length a guesser must not learn either.
 */
export function sameTextAnyLength(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

const digest = (value: string) => createHash('sha256').update(value).digest();
