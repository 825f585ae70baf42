import { Hono } from 'hono';
import type { Context } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { CalendarRow } from '../../core/calendars.ts';
import type { GraphEnv } from './context.ts';
import { getAccount } from '../../core/accounts.ts';
import { listCalendars, ownedCalendar } from '../../core/calendars.ts';
import { primaryCalendarId } from './calendar-ref.ts';

function calendarJson(cal: CalendarRow, owner: { name: string; email: string }) {
  return {
    id: cal.id,
    name: cal.name,
    color: 'auto',
    hexColor: cal.color?.startsWith('#') ? cal.color : '',
    isDefaultCalendar: cal.is_primary === 1,
    changeKey: String(cal.change_seq),
    canShare: false,
    canViewPrivateItems: true,
    canEdit: cal.readonly === 0,
    allowedOnlineMeetingProviders: [],
    defaultOnlineMeetingProvider: 'none',
    isTallyingResponses: false,
    isRemovable: cal.is_primary === 0,
    owner: { name: owner.name, address: owner.email },
  };
}

/** `/calendars`, `/calendars/{id}` and `/calendar`: the account's calendars, read-only here. */
export function calendarsRoutes(res: CoreResources) {
  const app = new Hono<GraphEnv>();
  const context = (accountId: string, suffix: string) =>
    `${res.publicUrl}/v1.0/$metadata#users('${accountId}')/calendars${suffix}`;

  app.get('/calendars', async (c) => {
    const { accountId } = c.get('principal');
    const owner = await getAccount(res, accountId);
    const calendars = await listCalendars(res, accountId);
    return c.json({
      '@odata.context': context(accountId, ''),
      value: calendars.map((cal) => calendarJson(cal, owner)),
    });
  });

  const one = (pick: (accountId: string, id: string | undefined) => Promise<string>) =>
    async function readCalendar(c: Context<GraphEnv>) {
      const { accountId } = c.get('principal');
      const id = await pick(accountId, c.req.param('calendarId'));
      const calendar = await ownedCalendar(res.db, accountId, id);
      const owner = await getAccount(res, accountId);
      return c.json({
        '@odata.context': context(accountId, '/$entity'),
        ...calendarJson(calendar, owner),
      });
    };
  app.get(
    '/calendars/:calendarId',
    one((_a, id) => Promise.resolve(id ?? '')),
  );
  app.get(
    '/calendar',
    one((accountId) => primaryCalendarId(res, accountId)),
  );

  return app;
}
