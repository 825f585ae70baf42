import { SourceError } from '../../domain/source.ts';
import type { XmlElement } from './xml-tree.ts';
import { childOf, childrenOf, ns, parseXml } from './xml-tree.ts';

/** One `response` of a 207 Multi-Status answer. */
export interface DavResponse {
  /** The href as the server wrote it. */
  readonly href: string;
  /** A status for the whole resource (a removal in a sync report, a 404 in a multiget). */
  readonly status: number | null;
  /** The properties the server found (those of its 2xx propstat). */
  readonly found: readonly XmlElement[];
}

export interface Multistatus {
  readonly responses: readonly DavResponse[];
  /** A sync-collection report's new token. */
  readonly syncToken: string | null;
}

export function parseMultistatus(body: Buffer, what: string): Multistatus {
  const root = parseXml(body.toString('utf8'), what);
  if (root.ns !== ns.dav || root.name !== 'multistatus') {
    throw new SourceError('malformed', `${what}: expected a multistatus, got ${root.name}`);
  }
  const responses = childrenOf(root, ns.dav, 'response').map((r) => readResponse(r, what));
  const token = childOf(root, ns.dav, 'sync-token')?.text.trim();
  return { responses, syncToken: token ? token : null };
}

function readResponse(response: XmlElement, what: string): DavResponse {
  const href = childOf(response, ns.dav, 'href')?.text.trim();
  if (!href) throw new SourceError('malformed', `${what}: a response without an href`);
  const status = childOf(response, ns.dav, 'status');
  const found: XmlElement[] = [];
  for (const propstat of childrenOf(response, ns.dav, 'propstat')) {
    const code = statusCode(childOf(propstat, ns.dav, 'status')?.text ?? '');
    const prop = childOf(propstat, ns.dav, 'prop');
    if (code !== null && code >= 200 && code < 300 && prop) found.push(...prop.children);
  }
  return { href, status: status ? statusCode(status.text) : null, found };
}

/** The code of a status line, `HTTP/1.1 404 Not Found`. */
function statusCode(line: string): number | null {
  const match = /^\s*HTTP\/[\d.]+\s+(\d{3})\b/i.exec(line);
  return match?.[1] ? Number(match[1]) : null;
}

export function propOf(response: DavResponse, space: string, name: string): XmlElement | undefined {
  return response.found.find((p) => p.ns === space && p.name === name);
}

/** A found property's text, trimmed; null when absent or empty. */
export function propText(response: DavResponse, space: string, name: string): string | null {
  const text = propOf(response, space, name)?.text.trim();
  return text ? text : null;
}

/** The first href inside a found property (current-user-principal, calendar-home-set). */
export function propHref(response: DavResponse, space: string, name: string): string | null {
  const prop = propOf(response, space, name);
  const href = prop && childOf(prop, ns.dav, 'href')?.text.trim();
  return href ? href : null;
}
