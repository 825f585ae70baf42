import type { CoreResources } from '../../core/resources.ts';
import type { Principal } from '../../core/accounts.ts';
import { getAccount } from '../../core/accounts.ts';
import { GraphError } from './errors.ts';

/** `users/{id}` names the caller's own account, by id or email; anyone else's is refused. */
export async function requireSelf(
  res: CoreResources,
  principal: Principal,
  user: string,
): Promise<void> {
  if (user === principal.accountId || user === 'me') return;
  const account = await getAccount(res, principal.accountId);
  if (user.toLowerCase() === account.email.toLowerCase()) return;
  throw new GraphError(
    403,
    'ErrorAccessDenied',
    'Access is denied. Check credentials and try again.',
  );
}

/** A path segment decoded once; a malformed escape is a bad request, not a crash. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw GraphError.invalid(`Invalid path segment '${segment}'.`);
  }
}
