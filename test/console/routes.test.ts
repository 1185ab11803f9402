/**
 * The console's routes through the api handler (in process, against the emulator), no browser:
 * sessions, the same-origin rule for POSTs, the file route's limits, server-side filtering and
 * paging. The browser tests (console.browser.test.ts) cover the page itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as api } from '../../functions/api/index';
import { handler as pollStat } from '../../functions/poll-stat/index';
import { LIST_FRESH_MS } from '../../shared/console/data';
import { ConsoleKeys } from '../../shared/console/session';
import { API_SECRET, callApi, httpEvent, startWorld, type World } from '../functions/harness';

const HOST = 'console.example';
let world: World;
let cookie: string;

/** A request as the browser sends it: Host, and for POSTs the console's own Origin and a JSON body. */
async function consoleCall(
  method: 'GET' | 'POST',
  path: string,
  opts: { body?: unknown; cookie?: string; origin?: string; query?: Record<string, string> } = {},
) {
  const body = opts.body === undefined ? '' : JSON.stringify(opts.body);
  const headers: Record<string, string> = { host: HOST };
  if (opts.cookie) headers.cookie = opts.cookie;
  if (method === 'POST') {
    headers.origin = opts.origin ?? `https://${HOST}`;
    headers['content-type'] = 'application/json';
  }
  const event = httpEvent(method, path, { headers, query: opts.query, body });
  const res = (await api(event, world.context('api', 30))) as {
    statusCode: number;
    headers: Record<string, string>;
    body: string;
  };
  return { status: res.statusCode, headers: res.headers, body: JSON.parse(res.body) as Record<string, any> };
}

beforeAll(async () => {
  world = await startWorld({ API_TOKEN: 'console-test-token-0123456789' });
  for (const name of ['alpha-1', 'alpha-2', 'beta-1'])
    expect((await callApi(api, world, 'POST', '/channels', { body: { name, snapshot: false } })).status).toBe(201);
  expect((await callApi(api, world, 'POST', '/channels/beta-1/disable')).status).toBe(200);
});
afterAll(() => world.stop());

describe('console sessions', () => {
  it('answers 401 JSON to data routes without a session, with the console CSP', async () => {
    const res = await consoleCall('GET', '/console/api/channels');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { code: 'no_session', message: expect.any(String) } });
    expect(res.headers['Content-Security-Policy']).toContain("script-src 'self'");
    // The api's own credentials are not a console session either.
    expect((await callApi(api, world, 'GET', '/console/api/channels')).status).toBe(401);
  });

  it('exchanges a login link once for a Secure HttpOnly SameSite=Strict cookie', async () => {
    const loginToken = new ConsoleKeys([API_SECRET]).mintLogin(world.clock.now());
    const first = await consoleCall('POST', '/console/api/session', { body: { loginToken } });
    expect(first.status).toBe(200);
    const setCookie = first.headers['Set-Cookie']!;
    expect(setCookie).toMatch(
      /^livecycle_console=[^;]+; Path=\/console; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/,
    );
    cookie = setCookie.split(';')[0]!;
    const again = await consoleCall('POST', '/console/api/session', { body: { loginToken } });
    expect(again).toMatchObject({ status: 401, body: { error: { code: 'login_link_used' } } });
    expect((await consoleCall('GET', '/console/api/session', { cookie })).status).toBe(200);
  });

  it('takes the api bearer token, and refuses anything else', async () => {
    const bad = await consoleCall('POST', '/console/api/session', { body: { token: 'nope-nope-nope-nope' } });
    expect(bad).toMatchObject({ status: 401, body: { error: { code: 'bad_token' } } });
    const good = await consoleCall('POST', '/console/api/session', {
      body: { token: 'console-test-token-0123456789' },
    });
    expect(good.status).toBe(200);
  });

  it('refuses a POST from another origin even with a valid session, and changes nothing', async () => {
    const res = await consoleCall('POST', '/console/api/channels/alpha-1/disable', {
      cookie,
      body: {},
      origin: 'https://evil.example',
    });
    expect(res).toMatchObject({ status: 403, body: { error: { code: 'cross_origin' } } });
    expect((await world.bucket.getLiveChannelInfo('alpha-1')).status).toBe('enabled');
    // GET never acts: the action routes are POST only.
    expect((await consoleCall('GET', '/console/api/channels/alpha-1/disable', { cookie })).status).toBe(405);
  });
});

describe('console data', () => {
  it('filters by state and name on the server and pages by cursor', async () => {
    const disabled = await consoleCall('GET', '/console/api/channels', { cookie, query: { state: 'disabled' } });
    expect(disabled.body.channels.map((c: { name: string }) => c.name)).toEqual(['beta-1']);
    const first = await consoleCall('GET', '/console/api/channels', { cookie, query: { q: 'ALPHA', limit: '1' } });
    expect(first.body).toMatchObject({
      total: 2,
      nextCursor: 'alpha-1',
      channels: [{ name: 'alpha-1', state: 'idle' }],
    });
    const second = await consoleCall('GET', '/console/api/channels', {
      cookie,
      query: { q: 'alpha', limit: '1', cursor: first.body.nextCursor },
    });
    expect(second.body).toMatchObject({ nextCursor: null, channels: [{ name: 'alpha-2' }] });
    const bad = await consoleCall('GET', '/console/api/channels', { cookie, query: { state: 'asleep' } });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'invalid_field', field: 'state' } } });
  });

  it("reads only playlists, fragments and snapshots directly in the channel's folder", async () => {
    for (const file of ['..', 'x.json', 'playlist.m3u8.exe'])
      expect((await consoleCall('GET', `/console/api/channels/alpha-1/files/${file}`, { cookie })).status).toBe(400);
    expect((await consoleCall('GET', '/console/api/channels/alpha-1/files/a%2Fb.ts', { cookie })).status).toBe(400);
    const ledger = await consoleCall('GET', `/console/api/channels/_livecycle/files/x.ts`, { cookie });
    expect(ledger.status).toBe(400);
    expect((await consoleCall('GET', '/console/api/channels/alpha-1/files/none.ts', { cookie })).status).toBe(404);
  });

  it('shows each webhook attempt of a channel: a refused one, then the delivery', async () => {
    // 400 is not retried within the run: the event waits in the outbox for the next drain.
    world.receiverScript.push(400);
    expect(
      (await callApi(api, world, 'POST', '/channels', { body: { name: 'gamma-1', snapshot: false } })).status,
    ).toBe(201);
    const pending = await consoleCall('GET', '/console/api/channels/gamma-1', { cookie });
    expect(pending.body.webhooks).toEqual([
      expect.objectContaining({
        type: 'channel.created',
        status: 'pending',
        attempts: 1,
        tries: [{ at: expect.any(String), status: 400, error: null }],
      }),
    ]);
    // poll-stat's tick drains the outbox.
    await pollStat(world.tick(), world.context('poll-stat'));
    const delivered = await consoleCall('GET', '/console/api/channels/gamma-1', { cookie });
    expect(delivered.body.webhooks).toEqual([
      expect.objectContaining({
        status: 'delivered',
        attempts: 2,
        tries: [expect.objectContaining({ status: 400 }), expect.objectContaining({ status: 204 })],
      }),
    ]);
  });

  it('disables through the api operation and records who did it', async () => {
    const res = await consoleCall('POST', '/console/api/channels/alpha-2/disable', { cookie, body: {} });
    expect(res.status).toBe(200);
    expect((await world.bucket.getLiveChannelInfo('alpha-2')).status).toBe('disabled');
    expect(await world.ledger.listConsoleActions('alpha-2')).toEqual([
      expect.objectContaining({
        action: 'disable',
        outcome: 'done',
        who: expect.stringMatching(/^console:login-link:/),
      }),
    ]);
    const detail = await consoleCall('GET', '/console/api/channels/alpha-2', { cookie });
    expect(detail.body).toMatchObject({ state: 'disabled', actions: [{ action: 'disable' }] });
    // The instance's own action is in its next list at once, reused reads or not.
    const list = await consoleCall('GET', '/console/api/channels', { cookie, query: { state: 'disabled' } });
    expect(list.body.channels.map((c: { name: string }) => c.name)).toEqual(['alpha-2', 'beta-1']);
  });

  it("reuses a refresh's reads for LIST_FRESH_MS of the clock, and shows a change made elsewhere after it", async () => {
    const names = async () =>
      (await consoleCall('GET', '/console/api/channels', { cookie, query: { state: 'disabled' } })).body.channels.map(
        (c: { name: string }) => c.name,
      );
    await world.clock.advance(LIST_FRESH_MS);
    expect(await names()).toEqual(['alpha-2', 'beta-1']);
    expect((await callApi(api, world, 'POST', '/channels/alpha-1/disable')).status).toBe(200);
    await world.clock.advance(LIST_FRESH_MS - 1);
    expect(await names()).toEqual(['alpha-2', 'beta-1']);
    await world.clock.advance(1);
    expect(await names()).toEqual(['alpha-1', 'alpha-2', 'beta-1']);
    expect(LIST_FRESH_MS + 2000).toBeLessThanOrEqual(5000);
  });
});
