import { XMLParser } from 'fast-xml-parser';
import { SourceError } from '../../domain/source.ts';

export const ns = {
  dav: 'DAV:',
  caldav: 'urn:ietf:params:xml:ns:caldav',
  /** Apple's calendar server: getctag. */
  cs: 'http://calendarserver.org/ns/',
  /** Apple's iCal properties: calendar-color. */
  apple: 'http://apple.com/ns/ical/',
} as const;

/** An XML element with its namespace resolved: WebDAV names properties by (namespace, name). */
export interface XmlElement {
  readonly ns: string;
  readonly name: string;
  /** Attributes by local name, namespace declarations left out. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** The element's own text and CDATA, joined. */
  readonly text: string;
}

// fast-xml-parser's ordered form: one key per node (its tag, `#text`, `?xml`…), `:@` the attributes.
type OrderedNode = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // Numeric character references (`&#13;` in calendar-data) are decoded only with this on.
  htmlEntities: true,
});

/** Parses a WebDAV body; anything that is not well-formed XML is 'malformed'. */
export function parseXml(body: string, what: string): XmlElement {
  let nodes: OrderedNode[];
  try {
    nodes = parser.parse(body, true) as OrderedNode[];
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new SourceError('malformed', `${what}: not well-formed XML (${reason})`);
  }
  const root = nodes.map((n) => toElement(n, new Map([['xml', 'xml']]))).find((e) => e);
  if (!root) throw new SourceError('malformed', `${what}: no XML element`);
  return root;
}

function toElement(node: OrderedNode, scope: ReadonlyMap<string, string>): XmlElement | null {
  const tag = Object.keys(node).find((k) => k !== ':@');
  if (tag === undefined || tag.startsWith('#') || tag.startsWith('?')) return null;
  const rawAttributes = (node[':@'] ?? {}) as Record<string, string>;
  const inner = new Map(scope);
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(rawAttributes)) {
    if (name === 'xmlns') inner.set('', value);
    else if (name.startsWith('xmlns:')) inner.set(name.slice(6), value);
    else attributes[localName(name)] = value;
  }
  const colon = tag.indexOf(':');
  const prefix = colon < 0 ? '' : tag.slice(0, colon);
  const children: XmlElement[] = [];
  let text = '';
  for (const child of (node[tag] ?? []) as OrderedNode[]) {
    if (typeof child['#text'] === 'string') text += child['#text'];
    const element = toElement(child, inner);
    if (element) children.push(element);
  }
  return { ns: inner.get(prefix) ?? '', name: tag.slice(colon + 1), attributes, children, text };
}

function localName(name: string): string {
  return name.slice(name.indexOf(':') + 1);
}

export function childOf(element: XmlElement, ns: string, name: string): XmlElement | undefined {
  return element.children.find((c) => c.ns === ns && c.name === name);
}

export function childrenOf(element: XmlElement, ns: string, name: string): XmlElement[] {
  return element.children.filter((c) => c.ns === ns && c.name === name);
}

/** Escapes text for an XML request body (an href, a sync token). */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
