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
