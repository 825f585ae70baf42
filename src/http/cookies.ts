/**
 * A request's cookie by name, as sent (not URL-decoded: calpush's own cookies hold
 * base64url values, compared as they were set).
 */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}
