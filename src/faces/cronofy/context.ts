import type { Principal } from '../../core/accounts.ts';

export interface CronofyEnv {
  Variables: { principal: Principal };
}
