import type { SendResult } from './http-sender.ts';

/** What the dispatcher's thread and the sender thread say to each other, in batches. */
export interface SendRequest {
  readonly id: number;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
  /** The handle's `writeBy`: the thread checks it when the connection is ready. */
  readonly writeBy: number | undefined;
}

export type ToSender =
  | { readonly op: 'send'; readonly requests: readonly SendRequest[] }
  | { readonly op: 'abort'; readonly id: number; readonly reason: string }
  | { readonly op: 'close' };

export interface SendOutcome extends SendResult {
  readonly id: number;
}

export type FromSender = { readonly op: 'done'; readonly outcomes: readonly SendOutcome[] };
