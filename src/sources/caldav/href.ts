/**
 * Hrefs as keys. Servers write the same resource's href in different ways (a full URL or an
 * absolute path, `%40` or `@`), so each is resolved and its percent-encoding made canonical:
 * every path segment decoded, then encoded again leaving only what a path segment may hold
 * unescaped (RFC 3986 pchar).
 */

/** The absolute path an href names, canonical: a CalDAV item's key. */
export function hrefPath(href: string, base: string): string {
  return canonicalPath(new URL(href.trim(), base).pathname);
}

/** The absolute URL an href names, with a canonical path: a calendar's remote id. */
export function hrefUrl(href: string, base: string): string {
  const url = new URL(href.trim(), base);
  return `${url.origin}${canonicalPath(url.pathname)}`;
}

/** A collection's URL always ends in `/`, however the server wrote it. */
export function collectionUrl(href: string, base: string): string {
  const url = hrefUrl(href, base);
  return url.endsWith('/') ? url : `${url}/`;
}

export function canonicalPath(path: string): string {
  return path.split('/').map(canonicalSegment).join('/');
}

function canonicalSegment(segment: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return segment;
  }
  return encodeURIComponent(decoded).replace(/%(24|26|2B|2C|3B|3D|3A|40)/g, (escaped) =>
    decodeURIComponent(escaped),
  );
}

/** Whether two paths name one collection, with or without its trailing slash. */
export function samePath(a: string, b: string): boolean {
  return a.replace(/\/$/, '') === b.replace(/\/$/, '');
}

/** A URL fit for a message: no user name or password in it. */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.href;
  } catch {
    return '(invalid URL)';
  }
}
