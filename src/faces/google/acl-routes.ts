import { Hono } from 'hono';
import type { Context } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { AclRuleRow } from '../../core/acl.ts';
import type { GoogleEnv } from './context.ts';
import { deleteAclRule, listAclRules, putAclRule } from '../../core/acl.ts';
import { getAccount } from '../../core/accounts.ts';
import { readJson } from '../../http/read-json.ts';
import { resolveCalendarId } from './calendar-ref.ts';
import { etag } from './list-params.ts';
import { aclBodySchema, parseBody } from './schemas.ts';
import { aclRuleJson } from './serialize.ts';
import { listSmall } from './small-lists.ts';
import { watch } from './watch.ts';

/** The owner's rule Google always lists; it is implied by ownership, never stored. */
function ownerRule(calendarId: string, email: string): AclRuleRow {
  return {
    id: `user:${email}`,
    calendar_id: calendarId,
    role: 'owner',
    scope_type: 'user',
    scope_value: email,
    deleted: 0,
    updated_at: 0,
    change_seq: 0,
  };
}

/** `/calendars/{calendarId}/acl`: list (with sync), insert, delete, watch. */
export function aclRoutes(res: CoreResources) {
  const app = new Hono<GoogleEnv>();
  const target = async (c: Context<GoogleEnv>) => {
    const principal = c.get('principal');
    const id = await resolveCalendarId(res, principal, c.req.param('calendarId') ?? '');
    return { accountId: principal.accountId, calendarId: id };
  };

  app.get('/', async (c) => {
    const t = await target(c);
    const page = await listSmall<AclRuleRow>(res, c, {
      accountId: t.accountId,
      resource: `acl:${t.calendarId}`,
      load: async () => {
        const rules = await listAclRules(res, t.accountId, t.calendarId);
        const { email } = await getAccount(res, t.accountId);
        const owner = ownerRule(t.calendarId, email);
        return [owner, ...rules.filter((r) => r.id !== owner.id)].map((row) => ({
          key: row.id,
          seq: Number(row.change_seq),
          deleted: row.deleted === 1,
          row,
        }));
      },
      defaultMax: 100,
      cap: 250,
      syncConflicts: [],
      hasDeleted: true,
    });
    return c.json({
      kind: 'calendar#acl',
      etag: etag(page.snap),
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      ...(page.nextSyncToken ? { nextSyncToken: page.nextSyncToken } : {}),
      items: page.rows.map(aclRuleJson),
    });
  });

  app.post('/watch', async (c) => {
    const t = await target(c);
    await listAclRules(res, t.accountId, t.calendarId);
    return watch(
      res,
      c,
      { kind: 'acl', calendarId: t.calendarId },
      `/calendars/${encodeURIComponent(t.calendarId)}/acl`,
    );
  });

  app.post('/', async (c) => {
    const body = parseBody(aclBodySchema, await readJson(c));
    const t = await target(c);
    const rule = await putAclRule(res, t.accountId, t.calendarId, {
      role: body.role,
      scopeType: body.scope.type,
      scopeValue: body.scope.value ?? null,
    });
    return c.json(aclRuleJson(rule));
  });

  app.delete('/:ruleId', async (c) => {
    const t = await target(c);
    await deleteAclRule(res, t.accountId, t.calendarId, c.req.param('ruleId'));
    return c.body(null, 204);
  });

  return app;
}
