import type { Principal } from '../../core/accounts.ts';

export interface GoogleEnv {
  Variables: { principal: Principal };
}
