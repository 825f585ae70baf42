// calpush dashboard: one page over the admin API (/admin/v1), signed in by a session cookie.
// Plain browser JavaScript, no framework and nothing fetched from elsewhere.

const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
const root = document.getElementById('app');
const liveBadge = document.getElementById('live');
/** The attempts that arrived over the event stream, newest first. */
const feed = [];
let currentView = { name: 'overview' };

/** Builds an element; children are nodes or text (never parsed as HTML). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`/admin/v1${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    location.href = '/dashboard';
    throw new Error('signed out');
  }
  const json = await response.json();
  if (!response.ok) throw new Error(json.error?.message ?? `HTTP ${response.status}`);
  return json;
}

const time = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
function closesIn(iso) {
  if (!iso) return '—';
  const seconds = Math.max(0, Math.round((Date.parse(iso) - Date.now()) / 1000));
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

function notice(text, kind = 'info') {
  const box = el('p', { class: `notice ${kind}`, role: 'status', 'data-testid': 'notice' }, text);
  root.prepend(box);
  setTimeout(() => box.remove(), 8000);
}

async function act(label, fn) {
  try {
    await fn();
    notice(label);
    await render();
  } catch (err) {
    notice(`${label} failed: ${err.message}`, 'error');
  }
}

function table(headers, rows, testid) {
  return el(
    'table',
    { 'data-testid': testid },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        headers.map((h) => el('th', {}, h)),
      ),
    ),
    el(
      'tbody',
      {},
      rows.length ? rows : el('tr', {}, el('td', { colspan: headers.length }, 'none')),
    ),
  );
}

function attemptsTable(attempts, showChannel) {
  return table(
    [
      'time',
      'notification',
      ...(showChannel ? ['channel'] : []),
      'kind',
      'outcome',
      'status / error',
      'latency',
      'next retry',
      '',
    ],
    attempts.map((a) =>
      el(
        'tr',
        { class: a.outcome === 'delivered' ? 'ok' : 'bad', 'data-testid': 'attempt-row' },
        el('td', {}, time(a.at)),
        el(
          'td',
          {},
          el('a', { href: `#/notification/${a.notification_id}` }, a.notification_id),
          a.replay ? el('span', { class: 'tag' }, 'replay') : null,
          a.test ? el('span', { class: 'tag' }, 'test') : null,
        ),
        ...(showChannel ? [el('td', {}, a.channel_id)] : []),
        el('td', {}, a.kind ?? ''),
        el('td', { 'data-testid': 'attempt-outcome' }, a.outcome),
        el(
          'td',
          { title: a.response_excerpt ?? '' },
          a.status ?? '',
          a.error ? ` ${a.error}` : '',
          a.error_class ? el('span', { class: 'tag' }, a.error_class) : null,
        ),
        el('td', {}, `${a.latency_ms} ms`),
        el('td', {}, time(a.next_retry_at)),
        el(
          'td',
          {},
          el(
            'button',
            {
              'data-testid': 'replay-notification',
              onclick: () =>
                act(`Replay of ${a.notification_id} queued`, () =>
                  api('POST', `/notifications/${a.notification_id}/replay`),
                ),
            },
            'Replay',
          ),
        ),
      ),
    ),
    'attempts',
  );
}

async function overview() {
  const state = currentView.state ?? '';
  const [clients, accounts, channels, sources] = await Promise.all([
    api('GET', '/clients'),
    api('GET', '/accounts'),
    api('GET', `/channels${state ? `?state=${state}` : ''}`),
    api('GET', '/sources'),
  ]);
  const filter = el(
    'select',
    {
      'data-testid': 'state-filter',
      onchange: (e) => {
        currentView = { name: 'overview', state: e.target.value };
        void render();
      },
    },
    ['', 'failing', 'closed', 'active'].map((s) =>
      el('option', { value: s, selected: s === state }, s || 'all states'),
    ),
  );
  return [
    el('h2', {}, 'Channels ', filter),
    table(
      ['channel', 'dialect', 'callback', 'state', 'last success', 'failing since', 'closes in'],
      channels.channels.map((c) =>
        el(
          'tr',
          { class: c.state, 'data-testid': 'channel-row' },
          el(
            'td',
            {},
            el('a', { href: `#/channel/${c.id}`, 'data-testid': 'channel-link' }, c.channel_id),
          ),
          el('td', {}, c.dialect),
          el('td', {}, c.callback_url),
          el('td', { 'data-testid': 'channel-state', title: c.closed_reason ?? '' }, c.state),
          el('td', {}, time(c.last_success_at)),
          el('td', {}, time(c.failing_since)),
          el('td', {}, closesIn(c.closes_at)),
        ),
      ),
      'channels',
    ),
    el('h2', {}, 'Clients'),
    table(
      ['client', 'name', 'accounts', 'created'],
      clients.clients.map((c) =>
        el(
          'tr',
          {},
          el('td', {}, c.client_id),
          el('td', {}, c.name),
          el('td', {}, c.accounts),
          el('td', {}, time(c.created_at)),
        ),
      ),
      'clients',
    ),
    el('h2', {}, 'Accounts'),
    table(
      ['account', 'client', 'email'],
      accounts.accounts.map((a) =>
        el('tr', {}, el('td', {}, a.account_id), el('td', {}, a.client_id), el('td', {}, a.email)),
      ),
      'accounts',
    ),
    el('h2', {}, 'Sources'),
    table(
      ['source', 'provider', 'host', 'state', 'last poll', 'last error'],
      sources.sources.map((s) =>
        el(
          'tr',
          {},
          el('td', {}, s.source_id),
          el('td', {}, s.provider),
          el('td', {}, s.host),
          el('td', {}, s.state),
          el('td', {}, time(s.last_polled_at)),
          el('td', {}, s.last_error ?? ''),
        ),
      ),
      'sources',
    ),
    el('h2', {}, 'Search the delivery log'),
    searchForm(),
  ];
}

function searchForm() {
  const input = el('input', {
    name: 'q',
    placeholder: 'ntf_123 or a callback host',
    'data-testid': 'search',
  });
  return el(
    'form',
    {
      onsubmit: (e) => {
        e.preventDefault();
        const q = input.value.trim();
        if (!q) return;
        currentView = { name: 'search', q };
        location.hash = `#/search/${encodeURIComponent(q)}`;
      },
    },
    input,
    el('button', { type: 'submit' }, 'Search'),
  );
}

async function channelView(id) {
  const outcome = currentView.outcome ?? '';
  const [{ health }, page] = await Promise.all([
    api('GET', `/channels/${id}/health`),
    api('GET', `/channels/${id}/attempts?limit=100${outcome ? `&outcome=${outcome}` : ''}`),
  ]);
  const since = el('input', {
    type: 'datetime-local',
    'data-testid': 'replay-since',
    value: new Date(Date.now() - 24 * 3600 * 1000 - new Date().getTimezoneOffset() * 60000)
      .toISOString()
      .slice(0, 16),
  });
  const facts = [
    ['state', health.state],
    ['callback', health.callback_url],
    ['closed reason', health.closed_reason ?? '—'],
    ['last success', time(health.last_success_at)],
    ['failure streak', health.failure_streak],
    ['failing since', time(health.failing_since)],
    ['closes in', closesIn(health.closes_at)],
    ['queued', health.queued],
  ];
  return [
    el('p', {}, el('a', { href: '#/' }, '← all channels')),
    el(
      'h2',
      {},
      `Channel ${health.channel_id}`,
      el('span', { class: `tag ${health.state}`, 'data-testid': 'health-state' }, health.state),
    ),
    el(
      'dl',
      { class: 'facts' },
      facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))]),
    ),
    el(
      'div',
      { class: 'actions' },
      el(
        'button',
        {
          'data-testid': 'send-test',
          onclick: () => act('Test notification queued', () => api('POST', `/channels/${id}/test`)),
        },
        'Send test',
      ),
      health.state === 'closed'
        ? el(
            'button',
            {
              'data-testid': 'reactivate',
              onclick: () =>
                act('Channel reactivated', () => api('POST', `/channels/${id}/reactivate`)),
            },
            'Reactivate',
          )
        : null,
      el(
        'span',
        {},
        'Replay failures since ',
        since,
        el(
          'button',
          {
            'data-testid': 'replay-failed',
            onclick: () =>
              act('Failed notifications queued again', () =>
                api('POST', `/channels/${id}/replay`, {
                  since: new Date(since.value).toISOString(),
                }),
              ),
          },
          'Replay failed',
        ),
      ),
    ),
    el(
      'h3',
      {},
      'Attempts ',
      el(
        'select',
        {
          'data-testid': 'outcome-filter',
          onchange: (e) => {
            currentView = { ...currentView, outcome: e.target.value };
            void render();
          },
        },
        ['', 'failed', 'delivered'].map((o) =>
          el('option', { value: o, selected: o === outcome }, o || 'all outcomes'),
        ),
      ),
    ),
    attemptsTable(page.attempts, false),
  ];
}

async function notificationView(id) {
  const page = await api('GET', `/notifications/${id}/attempts`);
  return [
    el('p', {}, el('a', { href: '#/' }, '← all channels')),
    el('h2', {}, `Notification ${id}`),
    attemptsTable(page.attempts, true),
  ];
}

async function searchView(q) {
  const param = /^(ntf_)?\d+$/.test(q)
    ? `notification_id=${encodeURIComponent(q)}`
    : `host=${encodeURIComponent(q)}`;
  const page = await api('GET', `/attempts?${param}&limit=100`);
  return [
    el('p', {}, el('a', { href: '#/' }, '← all channels')),
    el('h2', {}, `Attempts for ${q}`),
    attemptsTable(page.attempts, true),
  ];
}

function liveFeed() {
  return [
    el('h2', {}, 'Live'),
    el(
      'ol',
      { class: 'feed', 'data-testid': 'live-feed' },
      feed
        .slice(0, 20)
        .map((a) =>
          el(
            'li',
            { class: a.outcome === 'delivered' ? 'ok' : 'bad' },
            `${time(a.at)} ${a.notification_id} → ${a.channel_id}: ${a.outcome}${a.status ? ` ${a.status}` : ''}${a.replay ? ' (replay)' : ''}`,
          ),
        ),
    ),
  ];
}

function routeFromHash() {
  const [, name, arg] = location.hash.split('/');
  if (name === 'channel' && arg) currentView = { name: 'channel', id: decodeURIComponent(arg) };
  else if (name === 'notification' && arg)
    currentView = { name: 'notification', id: decodeURIComponent(arg) };
  else if (name === 'search' && arg) currentView = { name: 'search', q: decodeURIComponent(arg) };
  else if (currentView.name !== 'overview') currentView = { name: 'overview' };
}

let rendering = Promise.resolve();
function render() {
  rendering = rendering.then(async () => {
    try {
      const view = currentView;
      const content =
        view.name === 'channel'
          ? await channelView(view.id)
          : view.name === 'notification'
            ? await notificationView(view.id)
            : view.name === 'search'
              ? await searchView(view.q)
              : await overview();
      const notices = [...root.querySelectorAll('.notice')];
      root.replaceChildren(
        ...notices,
        el('section', { class: 'view' }, content),
        el('aside', {}, liveFeed()),
      );
    } catch (err) {
      root.replaceChildren(el('p', { class: 'notice error' }, err.message));
    }
  });
  return rendering;
}

function listen() {
  const events = new EventSource('/admin/v1/events');
  events.addEventListener('ready', () => {
    liveBadge.textContent = 'live';
    liveBadge.classList.add('on');
  });
  events.addEventListener('attempt', (e) => {
    const attempt = JSON.parse(e.data);
    feed.unshift(attempt);
    feed.length = Math.min(feed.length, 100);
    void render();
  });
  events.onerror = () => {
    liveBadge.textContent = 'reconnecting…';
    liveBadge.classList.remove('on');
  };
}

window.addEventListener('hashchange', () => {
  routeFromHash();
  void render();
});
routeFromHash();
void render();
listen();
