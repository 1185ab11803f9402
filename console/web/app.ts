/**
 * The console page: a channel list and a channel view over the console's JSON routes
 * (shared/console). No framework: the DOM is built with `h()`, text always as text nodes (never
 * HTML), so nothing a channel name or description holds can run. The page polls the route it
 * shows every POLL_MS while the tab is visible (an FC HTTP trigger cannot hold an SSE stream open).
 */
import Hls from 'hls.js/light';
import { formatBytes as bytes } from '../../shared/format';

const POLL_MS = 2000;
const API = '/console/api';

type Json = Record<string, any>;
type Child = Node | string | null | undefined | false;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call(method: 'GET' | 'POST', path: string, body?: Json): Promise<Json> {
  const res = await fetch(`${API}${path}`, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = (await res.json().catch(() => ({}))) as Json;
  if (!res.ok) throw new HttpError(res.status, data.error?.code ?? 'error', data.error?.message ?? res.statusText);
  return data;
}

const main = () => document.getElementById('main') as HTMLElement;
const statusLine = () => document.getElementById('status') as HTMLElement;

function setStatus(text: string): void {
  statusLine().textContent = text;
}

// ── formatting ─────────────────────────────────────────────────────────────────────────────

function when(isoText: string | null | undefined): string {
  if (!isoText) return '—';
  return `${isoText.slice(0, 10)} ${isoText.slice(11, 19)}Z`;
}

function duration(fromIso: string, toIso: string | null, nowIso: string): string {
  const s = Math.max(0, Math.round((Date.parse(toIso ?? nowIso) - Date.parse(fromIso)) / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

function cny(value: number): string {
  return `¥${value.toFixed(value < 1 ? 4 : 2)}`;
}

/** Stat's bandwidth, whose unit OSS documents two ways (docs/console.md): shown as given. */
function bitrate(video: Json | null): string {
  return video ? `${Math.round(video.bandwidth).toLocaleString('en')} /s` : '—';
}

function stateText(row: Json): string {
  if (row.state === 'idle') return row.since ? `idle since ${when(row.since)}` : 'idle';
  if (row.state === 'live') return 'live';
  return row.since ? `${row.state} ${when(row.since)}` : row.state;
}

function fileUrl(channel: string, file: string): string {
  return `${API}/channels/${encodeURIComponent(channel)}/files/${encodeURIComponent(file)}`;
}

// ── sign-in ────────────────────────────────────────────────────────────────────────────────

function signInView(message?: string): void {
  stopPolling();
  (document.getElementById('sign-out') as HTMLButtonElement).hidden = true;
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true });
  const error = h('p', { class: 'error', role: 'alert' }, message ?? '');
  const form = h(
    'form',
    { class: 'sign-in' },
    h('h1', {}, 'Sign in'),
    h(
      'p',
      {},
      'Open the one-time console link that livecycle start printed, or sign in with the api bearer token (API_TOKEN).',
    ),
    h('label', { for: 'token' }, 'API token'),
    input,
    h('button', { type: 'submit' }, 'Sign in'),
    error,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    call('POST', '/session', { token: input.value })
      .then(() => route())
      .catch((err: Error) => {
        error.textContent = err.message;
        input.focus();
      });
  });
  main().replaceChildren(form);
  input.focus();
}

// ── polling ────────────────────────────────────────────────────────────────────────────────

let timer: number | undefined;
let generation = 0;

function stopPolling(): void {
  if (timer !== undefined) window.clearTimeout(timer);
  timer = undefined;
  generation++;
}

/** Runs `refresh` now and every POLL_MS while visible, until the view changes. */
function poll(refresh: () => Promise<void>): void {
  stopPolling();
  const mine = generation;
  const tick = async () => {
    if (mine !== generation) return;
    if (document.visibilityState === 'visible') {
      try {
        await refresh();
        setStatus('');
      } catch (err) {
        if (err instanceof HttpError && err.status === 401) return signInView('Your session ended; sign in again.');
        setStatus(`update failed: ${(err as Error).message}; retrying`);
      }
    }
    if (mine === generation) timer = window.setTimeout(() => void tick(), POLL_MS);
  };
  void tick();
}

// ── channel list ───────────────────────────────────────────────────────────────────────────

const STATES = ['', 'live', 'idle', 'disabled', 'deleted'];

function listView(params: URLSearchParams): void {
  const state = params.get('state') ?? '';
  const q = params.get('q') ?? '';
  const cursor = params.get('cursor') ?? '';
  const search = h('input', { id: 'q', name: 'q', type: 'search', value: q, autocomplete: 'off' });
  const select = h('select', { id: 'state', name: 'state' });
  for (const s of STATES) select.append(h('option', { value: s, selected: s === state }, s || 'all'));
  const form = h(
    'form',
    { class: 'filters', role: 'search' },
    h('label', { for: 'q' }, 'Name'),
    search,
    h('label', { for: 'state' }, 'State'),
    select,
    h('button', { type: 'submit' }, 'Filter'),
  );
  const apply = (next: Record<string, string>) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(next)) if (v) p.set(k, v);
    location.hash = `#/?${p.toString()}`;
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    apply({ q: search.value.trim(), state: select.value });
  });
  select.addEventListener('change', () => apply({ q: search.value.trim(), state: select.value }));
  const summary = h('p', { class: 'summary', 'aria-live': 'polite' });
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'channels' },
    h('caption', { class: 'visually-hidden' }, 'Channels'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...[
          'Snapshot',
          'Name',
          'State',
          'Resolution',
          'Frame rate',
          'Bitrate',
          'Last broadcast',
          'VODs',
          'Cost / month',
        ].map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    body,
  );
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  const prices = h('p', { class: 'summary' });
  main().replaceChildren(h('h1', {}, 'Channels'), form, summary, h('div', { class: 'scroll' }, table), pager, prices);

  poll(async () => {
    const query = new URLSearchParams();
    if (state) query.set('state', state);
    if (q) query.set('q', q);
    if (cursor) query.set('cursor', cursor);
    const page = await call('GET', `/channels?${query.toString()}`);
    const counts = page.counts as Record<string, number>;
    summary.textContent = `${page.total} channel${page.total === 1 ? '' : 's'}${state ? ` ${state}` : ''}${q ? ` named like “${q}”` : ''} · by state: live ${counts.live}, idle ${counts.idle}, disabled ${counts.disabled}, deleted ${counts.deleted}`;
    renderRows(body, page.channels as Json[], page.now as string);
    prices.textContent = `Cost per month in CNY: storage held for a month plus this month's counted requests and compute, projected (docs/cost.md). Prices: ${page.prices.region}, as of ${page.prices.asOf}.`;
    pager.replaceChildren(
      ...(cursor ? [h('a', { href: `#/?${new URLSearchParams({ state, q }).toString()}` }, 'First page')] : []),
      ...(page.nextCursor
        ? [h('a', { href: `#/?${new URLSearchParams({ state, q, cursor: page.nextCursor }).toString()}` }, 'Next page')]
        : []),
    );
  });
}

/** Replaces the rows, keeping keyboard focus on the same channel's link across updates. */
function renderRows(body: HTMLElement, rows: Json[], now: string): void {
  const focused = document.activeElement?.getAttribute('data-channel');
  const fresh = rows.map((r) => {
    const link = h('a', { href: `#/channels/${encodeURIComponent(r.name)}`, 'data-channel': r.name }, r.name);
    const thumb = r.snapshot
      ? h('img', { src: fileUrl(r.name, r.snapshot), alt: `latest snapshot of ${r.name}`, width: '96', height: '54' })
      : h('span', { class: 'no-thumb' }, '—');
    const last = r.lastBroadcast as Json | null;
    const cells: [string, Child][] = [
      ['Snapshot', thumb],
      ['Name', link],
      ['State', h('span', { class: `state state-${r.state}` }, stateText(r))],
      ['Resolution', r.video ? `${r.video.width}×${r.video.height}` : '—'],
      ['Frame rate', r.video ? `${r.video.frameRate} fps` : '—'],
      ['Bitrate', bitrate(r.video)],
      [
        'Last broadcast',
        last
          ? `${when(last.startedAt)}, ${duration(last.startedAt, last.endedAt, now)}${last.pushes > 1 ? ` (${last.pushes} pushes)` : ''}`
          : '—',
      ],
      ['VODs', String(r.vods)],
      ['Cost / month', r.cnyPerMonth === null ? '—' : cny(r.cnyPerMonth)],
    ];
    return h(
      'tr',
      { 'data-name': r.name },
      ...cells.map(([label, content]) => h('td', { 'data-label': label }, content)),
    );
  });
  body.replaceChildren(...fresh);
  if (rows.length === 0) body.append(h('tr', {}, h('td', { colspan: '9' }, 'No channel matches.')));
  if (focused) (body.querySelector(`a[data-channel="${CSS.escape(focused)}"]`) as HTMLElement | null)?.focus();
}

// ── channel view ───────────────────────────────────────────────────────────────────────────

let player: { hls?: Hls; video: HTMLVideoElement } | undefined;

function stopPlayer(): void {
  player?.hls?.destroy();
  player = undefined;
}

function play(section: HTMLElement, channel: string, file: string, label: string): void {
  stopPlayer();
  const video = h('video', { controls: true, muted: true, playsinline: true, 'aria-label': label });
  video.muted = true;
  const src = fileUrl(channel, file);
  const state = h('p', { class: 'player-state', 'aria-live': 'polite' }, `loading ${label}…`);
  section.replaceChildren(h('h3', {}, label), video, state);
  const report = (text: string) => (state.textContent = text);
  video.addEventListener('playing', () => report(`playing ${label}`));
  video.addEventListener('error', () => report(`cannot play: ${video.error?.message || 'media error'}`));
  if (Hls.isSupported()) {
    // No worker: the CSP admits no blob: workers.
    const hls = new Hls({ enableWorker: false });
    hls.on(Hls.Events.ERROR, (_e: unknown, data: { fatal: boolean; details: string }) => {
      if (data.fatal) report(`cannot play: ${data.details}`);
    });
    hls.loadSource(src);
    hls.attachMedia(video);
    player = { hls, video };
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = src;
    player = { video };
  } else {
    report('this browser plays neither HLS nor MediaSource');
    return;
  }
  void video.play().catch(() => report('press play to start'));
}

function timeline(channel: Json): HTMLElement {
  const broadcasts = channel.broadcasts as Json[];
  if (broadcasts.length === 0) return h('p', {}, 'No broadcast in the last 30 days.');
  const list = h('ol', { class: 'timeline' });
  for (const b of broadcasts.slice().reverse()) {
    const start = Date.parse(b.startedAt);
    const end = Date.parse(b.endedAt ?? channel.now);
    const span = Math.max(1, end - start);
    const bar = h('div', { class: 'bar', role: 'img' });
    const pushes = b.pushes as Json[];
    bar.setAttribute(
      'aria-label',
      `${pushes.length} push${pushes.length === 1 ? '' : 'es'}${pushes.length > 1 ? `, ${pushes.length - 1} gap${pushes.length > 2 ? 's' : ''} merged` : ''}`,
    );
    for (const p of pushes) {
      const seg = h('span', { class: p.endedAt ? 'push' : 'push open' });
      const from = Date.parse(p.startedAt);
      const to = Date.parse(p.endedAt ?? channel.now);
      // CSSOM, not a style attribute: the CSP admits no inline styles.
      seg.style.left = `${((from - start) / span) * 100}%`;
      seg.style.width = `${Math.max(0.5, ((to - from) / span) * 100)}%`;
      seg.title = `${when(p.startedAt)} – ${p.endedAt ? when(p.endedAt) : 'on air'}`;
      bar.append(seg);
    }
    list.append(
      h(
        'li',
        {},
        h(
          'p',
          {},
          h('strong', {}, b.id),
          ` ${when(b.startedAt)} · ${duration(b.startedAt, b.endedAt, channel.now)} · ${b.state}`,
          pushes.length > 1 ? ` · ${pushes.length} pushes merged (reconnects)` : '',
          b.historyGaps ? ` · ${b.historyGaps} History gap(s): pushes may be missing` : '',
        ),
        bar,
      ),
    );
  }
  return list;
}

function table(caption: string, headers: string[], rows: Child[][]): HTMLElement {
  if (rows.length === 0) return h('p', {}, `No ${caption.toLowerCase()}.`);
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, ...headers.map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        {},
        ...rows.map((r) => h('tr', {}, ...r.map((c, i) => h('td', { 'data-label': headers[i] ?? '' }, c)))),
      ),
    ),
  );
}

function channelView(name: string): void {
  const heading = h('h1', {}, name);
  const overview = h('section', { 'aria-labelledby': 'overview-h' });
  const playerSection = h('section', { class: 'player', 'aria-live': 'polite' });
  const sections = {
    timeline: h('section', {}),
    vods: h('section', {}),
    webhooks: h('section', {}),
    objects: h('section', {}),
    cost: h('section', {}),
    plan: h('section', {}),
    actions: h('section', {}),
  };
  main().replaceChildren(
    h('p', {}, h('a', { href: '#/' }, '← All channels')),
    heading,
    overview,
    playerSection,
    ...(
      [
        ['Broadcasts', sections.timeline],
        ['VODs', sections.vods],
        ['Webhooks', sections.webhooks],
        ['Cost per month', sections.cost],
        ['Objects', sections.objects],
        ['Next cleanup pass (plan)', sections.plan],
        ['Console actions', sections.actions],
      ] as const
    ).flatMap(([title, section]) => [h('h2', {}, title), section]),
  );
  let rendered = '';
  poll(async () => {
    const c = await call('GET', `/channels/${encodeURIComponent(name)}`);
    const { now: _now, ...stable } = c;
    const fingerprint = JSON.stringify(stable);
    if (fingerprint === rendered) return;
    rendered = fingerprint;
    renderChannel(c, overview, playerSection, sections);
  });
}

function renderChannel(
  c: Json,
  overview: HTMLElement,
  playerSection: HTMLElement,
  sections: Record<'timeline' | 'vods' | 'webhooks' | 'objects' | 'cost' | 'plan' | 'actions', HTMLElement>,
): void {
  const actionButton = (action: 'disable' | 'enable') => {
    const b = h('button', { type: 'button' }, action === 'disable' ? 'Disable' : 'Enable');
    b.addEventListener('click', () => {
      b.disabled = true;
      call('POST', `/channels/${encodeURIComponent(c.name)}/${action}`, {})
        .then(() => setStatus(`${action}d ${c.name}`))
        .catch((err: Error) => setStatus(`${action} refused: ${err.message}`))
        .finally(() => (b.disabled = false));
    });
    return b;
  };
  const live = c.live as Json | null;
  overview.replaceChildren(
    h('h2', { id: 'overview-h', class: 'visually-hidden' }, 'Overview'),
    h(
      'p',
      {},
      h('span', { class: `state state-${c.state}` }, c.state),
      live?.video ? ` · ${live.video.width}×${live.video.height} @ ${live.video.frameRate} fps` : '',
      c.description ? ` · ${c.description}` : '',
      c.generation ? ` · created ${when(c.generation)}` : '',
      c.deletedAt ? ` · deleted ${when(c.deletedAt)}` : '',
    ),
    c.snapshot ? h('img', { src: fileUrl(c.name, c.snapshot), alt: 'latest snapshot', class: 'snapshot' }) : '',
    h(
      'p',
      { class: 'actions' },
      c.state === 'live' && c.playlistName ? liveButton(c, playerSection) : null,
      c.state === 'disabled' ? actionButton('enable') : c.state === 'deleted' ? null : actionButton('disable'),
    ),
  );
  sections.timeline.replaceChildren(timeline(c));
  sections.vods.replaceChildren(
    table(
      'VODs',
      ['Broadcast', 'Status', 'Recorded', ''],
      (c.vods as Json[]).map((v) => {
        let play: Child = v.error ?? '';
        if (v.status === 'ready' && v.file) {
          const b = h('button', { type: 'button' }, `Play ${v.broadcastId}`);
          b.addEventListener('click', () => playAndFocus(playerSection, c.name, v.file, `VOD ${v.broadcastId}`));
          play = b;
        }
        return [v.broadcastId, v.status, when(v.recordedAt), play];
      }),
    ),
  );
  sections.webhooks.replaceChildren(
    table(
      'webhooks',
      ['Event', 'Occurred', 'Delivery', 'Attempts', 'Each attempt'],
      (c.webhooks as Json[]).map((w) => [
        w.type,
        when(w.occurredAt),
        w.status === 'delivered' ? `delivered ${when(w.deliveredAt)}` : w.status,
        String(w.attempts),
        h(
          'ol',
          { class: 'tries' },
          ...(w.tries as Json[]).map((t) =>
            h('li', {}, `${when(t.at)} ${t.status === null ? t.error : `HTTP ${t.status}`}`),
          ),
        ),
      ]),
    ),
  );
  const o = c.objects as Json;
  sections.objects.replaceChildren(
    h('p', {}, `${o.objects} objects, ${bytes(o.bytes)}${o.truncated ? ' (first 20,000 objects only)' : ''}`),
    table(
      'objects by kind',
      ['Kind', 'Objects', 'Bytes'],
      Object.entries(o.byKind as Record<string, Json>).map(([kind, k]) => [kind, String(k.objects), bytes(k.bytes)]),
    ),
  );
  const cost = c.cost as Json | null;
  sections.cost.replaceChildren(
    cost
      ? h(
          'div',
          {},
          h(
            'p',
            {},
            `${cny(cost.cnyPerMonth.total)} a month: storage ${cny(cost.cnyPerMonth.storage)}, requests ${cny(cost.cnyPerMonth.requests)} (${cost.requestsPerMonth.toLocaleString('en')} a month), compute ${cny(cost.cnyPerMonth.compute)}, share of bucket-wide work ${cny(cost.cnyPerMonth.overheadShare)}.`,
          ),
          h(
            'p',
            {},
            cost.listedAt
              ? `Storage as cleanup last listed it (${when(cost.listedAt)}): ${cost.objects} objects, ${bytes(cost.bytes)}.`
              : 'Storage: not listed by cleanup yet.',
            cost.budget
              ? ` Budget ${cny(cost.budget.cnyPerMonth)} a month (${cost.budget.source}): ${Math.round(cost.budget.used * 100)} % used${cost.budget.level ? `, ${cost.budget.level}` : ''}.`
              : '',
          ),
        )
      : h('p', {}, 'No cost figures for this channel.'),
  );
  const plan = c.cleanupPlan as Json | null;
  sections.plan.replaceChildren(
    !plan
      ? h('p', {}, 'No cleanup run yet: the plan appears after the first (dry) run of cleanup-orphans.')
      : !plan.dryRun
        ? h('p', {}, `The latest cleanup run (${when(plan.finishedAt)}) was a real run, not a plan.`)
        : h(
            'div',
            {},
            h(
              'p',
              {},
              plan.channel
                ? `Dry run of ${when(plan.finishedAt)}: would delete ${plan.channel.candidates} objects, ${bytes(plan.channel.bytes)} (${plan.channel.state}).`
                : `Dry run of ${when(plan.finishedAt)}: nothing of this channel would be deleted.`,
            ),
            (plan.keys as string[]).length ? h('ul', {}, ...(plan.keys as string[]).map((k) => h('li', {}, k))) : null,
          ),
  );
  sections.actions.replaceChildren(
    table(
      'console actions',
      ['When', 'Action', 'Who', 'Outcome'],
      (c.actions as Json[]).map((a) => [when(a.at), a.action, a.who, a.outcome]),
    ),
  );
}

function liveButton(c: Json, playerSection: HTMLElement): HTMLElement {
  const b = h('button', { type: 'button' }, 'Watch live');
  b.addEventListener('click', () => playAndFocus(playerSection, c.name, c.playlistName, 'live'));
  return b;
}

function playAndFocus(section: HTMLElement, channel: string, file: string, label: string): void {
  play(section, channel, file, label);
  section.querySelector('video')?.focus();
}

// ── drift ──────────────────────────────────────────────────────────────────────────────────

function driftView(): void {
  stopPolling();
  const result = h('div', { 'aria-live': 'polite' });
  const check = h('button', { type: 'button' }, 'Check drift');
  const run = () => {
    check.disabled = true;
    result.replaceChildren(h('p', {}, 'Listing OSS channels, the ledger and the bucket’s folders…'));
    call('GET', '/drift')
      .then((d) => {
        const items = d.items as Json[];
        result.replaceChildren(
          h(
            'p',
            {},
            `Checked ${when(d.checkedAt)}: ${d.counts.ossChannels} channels in OSS, ${d.counts.ledgerChannels} in the ledger, ${d.counts.folders} top-level folders; ${items.length} disagreement${items.length === 1 ? '' : 's'}.`,
          ),
          table(
            'disagreements',
            ['Kind', 'Channel or folder', 'Detail', 'Resolved by'],
            items.map((i) => [
              i.kind,
              i.channel ?? i.prefix ?? '',
              i.detail,
              `${i.action}${i.fixable ? ' (livecycle drift --fix)' : ''}`,
            ]),
          ),
        );
      })
      .catch((err: Error) => {
        if (err instanceof HttpError && err.status === 401) return signInView('Your session ended; sign in again.');
        result.replaceChildren(h('p', { class: 'error', role: 'alert' }, err.message));
      })
      .finally(() => (check.disabled = false));
  };
  check.addEventListener('click', run);
  main().replaceChildren(
    h('h1', {}, 'Drift'),
    h(
      'p',
      {},
      'Where OSS’s channel list, the ledger and the bucket’s folders disagree, and what resolves each. The check lists the whole bucket, so it runs when asked. Reconciling is a reviewed dry run: livecycle drift prints a plan id, livecycle drift --fix <id> carries out exactly that plan.',
    ),
    check,
    result,
  );
  run();
}

// ── routing ────────────────────────────────────────────────────────────────────────────────

function route(): void {
  stopPlayer();
  const hash = location.hash.replace(/^#/, '');
  const [path = '/', query = ''] = hash.split('?');
  (document.getElementById('sign-out') as HTMLButtonElement).hidden = false;
  const detail = /^\/channels\/([^/]+)$/.exec(path);
  if (detail?.[1]) channelView(decodeURIComponent(detail[1]));
  else if (path === '/drift') driftView();
  else listView(new URLSearchParams(query));
  main().focus();
}

async function start(): Promise<void> {
  document.getElementById('sign-out')?.addEventListener('click', () => {
    void call('POST', '/logout', {}).finally(() => signInView());
  });
  window.addEventListener('hashchange', route);
  const login = /^#login=([A-Za-z0-9_.-]+)$/.exec(location.hash)?.[1];
  if (login) {
    // The token leaves the address bar at once, whatever the answer.
    history.replaceState(null, '', '/console/');
    try {
      await call('POST', '/session', { loginToken: login });
      location.replace('/console/');
      return;
    } catch (err) {
      return signInView((err as Error).message);
    }
  }
  try {
    await call('GET', '/session');
  } catch (err) {
    if (err instanceof HttpError && err.status === 401) return signInView();
    throw err;
  }
  route();
}

void start();
