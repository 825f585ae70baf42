/**
 * A feed address as calpush fetches and stores it: `webcal://` and `webcals://` (what
 * "subscribe" links use) are `https://`; an http(s) URL is kept as written. The API side
 * uses this too, so a source's URL and its calendar's remoteId are the same string.
 */
export function feedUrlOf(url: string): string {
  return url.trim().replace(/^webcals?:\/\//i, 'https://');
}

/** A calendar name for a feed without X-WR-CALNAME: its file name, else its host. */
export function nameFromUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const file = parsed.pathname.split('/').filter(Boolean).at(-1);
    const name = file ? decodeURIComponent(file).replace(/\.(ics|ical|ifb|icalendar)$/i, '') : '';
    return name || parsed.host;
  } catch {
    return url;
  }
}
