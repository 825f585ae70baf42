import type { Principal } from '../../core/accounts.ts';

export interface GraphEnv {
  Variables: { principal: Principal };
}
