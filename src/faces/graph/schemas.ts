import { z } from 'zod';
import type { ZodType } from 'zod';
import type { JsonBody } from '../../http/read-json.ts';
import { GraphError, fromZod } from './errors.ts';

export function parseBody<T>(schema: ZodType<T>, body: JsonBody): T {
  if (!body.ok) throw GraphError.invalid('Unable to read JSON request payload.');
  const parsed = schema.safeParse(body.value);
  if (!parsed.success) throw fromZod(parsed.error);
  return parsed.data;
}

const url = z.string().min(1).max(2048);

export const subscriptionBodySchema = z.looseObject({
  changeType: z.string().min(1).max(64),
  notificationUrl: url,
  lifecycleNotificationUrl: url.nullish(),
  resource: z.string().min(1).max(1024),
  expirationDateTime: z.string().min(1).max(64),
  clientState: z.string().max(128).nullish(),
  latestSupportedTlsVersion: z.enum(['v1_0', 'v1_1', 'v1_2', 'v1_3']).nullish(),
  includeResourceData: z.boolean().nullish(),
  encryptionCertificate: z.string().nullish(),
});
export type SubscriptionBody = z.infer<typeof subscriptionBodySchema>;

export const subscriptionPatchSchema = z.looseObject({
  expirationDateTime: z.string().min(1).max(64).nullish(),
  notificationUrl: url.nullish(),
  lifecycleNotificationUrl: url.nullish(),
});
export type SubscriptionPatch = z.infer<typeof subscriptionPatchSchema>;
