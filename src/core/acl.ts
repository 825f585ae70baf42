import type { CoreResources } from './resources.ts';
import { writeNow } from './resources.ts';
import type { AclRulesTable } from '../store/schema.ts';
import { CoreError } from './errors.ts';
import { ownedCalendar, writableCalendar } from './calendars.ts';
import { recordChange } from './change-log.ts';

export type AclRuleRow = AclRulesTable;

export interface AclRuleInput {
  readonly role: string;
  readonly scopeType: string;
  readonly scopeValue: string | null;
}

/** A rule's id is its scope, as on Google: `user:a@example.com`, `domain:example.com`, `default`. */
export function aclRuleId(scopeType: string, scopeValue: string | null): string {
  return scopeType === 'default' ? 'default' : `${scopeType}:${scopeValue ?? ''}`;
}

/** Every rule of a calendar the account owns, deleted ones included (for incremental sync). */
export async function listAclRules(
  res: CoreResources,
  accountId: string,
  calendarId: string,
): Promise<AclRuleRow[]> {
  await ownedCalendar(res.db, accountId, calendarId);
  return res.db
    .selectFrom('acl_rules')
    .selectAll()
    .where('calendar_id', '=', calendarId)
    .orderBy('id')
    .execute();
}

/** Inserts a rule, or changes the role of the live or deleted rule with the same scope. */
export async function putAclRule(
  res: CoreResources,
  accountId: string,
  calendarId: string,
  input: AclRuleInput,
): Promise<AclRuleRow> {
  if (input.scopeType !== 'default' && !input.scopeValue) {
    throw new CoreError('invalid', 'scope.value is required for this scope type', {
      field: 'scope.value',
      detail: 'required',
    });
  }
  const id = aclRuleId(input.scopeType, input.scopeValue);
  const row = await writeNow(res, async (trx, now) => {
    await writableCalendar(trx, accountId, calendarId);
    const seq = await recordChange(
      trx,
      res.dialects,
      { accountId, resource: 'acl', calendarId, resourceId: id, managed: false },
      now,
    );
    const next: AclRuleRow = {
      id,
      calendar_id: calendarId,
      role: input.role,
      scope_type: input.scopeType,
      scope_value: input.scopeType === 'default' ? null : input.scopeValue,
      deleted: 0,
      updated_at: now,
      change_seq: seq,
    };
    await trx
      .insertInto('acl_rules')
      .values(next)
      .onConflict((oc) =>
        oc.columns(['calendar_id', 'id']).doUpdateSet({
          role: next.role,
          deleted: 0,
          updated_at: now,
          change_seq: seq,
        }),
      )
      .execute();
    return next;
  });
  res.notifyQueued();
  return row;
}

export async function deleteAclRule(
  res: CoreResources,
  accountId: string,
  calendarId: string,
  ruleId: string,
): Promise<void> {
  await writeNow(res, async (trx, now) => {
    await writableCalendar(trx, accountId, calendarId);
    const current = await trx
      .selectFrom('acl_rules')
      .select('id')
      .where('calendar_id', '=', calendarId)
      .where('id', '=', ruleId)
      .where('deleted', '=', 0)
      .executeTakeFirst();
    if (!current) throw new CoreError('not_found', `no ACL rule ${ruleId}`, { field: 'ruleId' });
    const seq = await recordChange(
      trx,
      res.dialects,
      { accountId, resource: 'acl', calendarId, resourceId: ruleId, managed: false },
      now,
    );
    await trx
      .updateTable('acl_rules')
      .set({ deleted: 1, role: 'none', updated_at: now, change_seq: seq })
      .where('calendar_id', '=', calendarId)
      .where('id', '=', ruleId)
      .execute();
  });
  res.notifyQueued();
}
