/**
 * The console in a real browser (chromium via playwright-core) against the local stack booted
 * from the built bundles, on a frozen clock the test advances. Every wait is for a condition
 * (an element, a text, a video's time) — never a fixed delay.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signApiRequest } from '../../shared/api/auth';
import { LIST_FRESH_MS } from '../../shared/console/data';
import { Ledger } from '../../shared/ledger';
import { OssClient, staticCredentials, type OssBucket } from '../../shared/oss';
import { DEFAULT_ACCESS_KEY, DEFAULT_BUCKET } from '../../local/emulator';
import { bootStack, consoleLoginUrl, type LocalStack } from '../../local/stack';
import { ensureBuilt } from '../helpers/build';
import { passStackTime, ROOT } from '../cli/helpers';
import { CHROMIUM, browserAvailable } from './browser';

const START = Date.UTC(2024, 4, 1, 12, 0, 1);
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS;
const run = browserAvailable();

let stack: LocalStack;
let dataDir: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let bucket: OssBucket;
let receiver: Server;
/** Webhook bodies the stack delivered (a receiver answering 200). */
const delivered: string[] = [];

async function api(method: string, path: string, body?: object) {
  const text = body === undefined ? '' : JSON.stringify(body);
  const res = await request(`${stack.runtime.httpUrl}${path}`, {
    method: method as 'POST',
    headers: {
      ...signApiRequest({ method, path, body: text, secret: stack.apiSecret, now: stack.clock.now() }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : text,
  });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, any> };
}

/** The page's video element's own clock passes 0.5 s: it advances only while frames decode. */
async function videoPlays(): Promise<void> {
  await page.waitForFunction(() => {
    const video = (
      globalThis as unknown as { document: { querySelector(s: string): { currentTime: number } | null } }
    ).document.querySelector('video');
    return (video?.currentTime ?? 0) > 0.5;
  });
  await page.locator('.player-state', { hasText: 'playing' }).waitFor();
}

/** With CONSOLE_SCREENSHOTS=DIR, a full-page screenshot for docs/console.md. */
async function shot(name: string, width = 1280, on: Page = page): Promise<void> {
  if (!SCREENSHOTS) return;
  await on.setViewportSize({ width, height: 900 });
  await on.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

describe.runIf(run)('the console in a browser', () => {
  beforeAll(async () => {
    ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'livecycle-console-'));
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        delivered.push(body);
        res.end();
      });
    });
    await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
    stack = await bootStack({
      root: ROOT,
      dataDir,
      apiPort: 0,
      emulatorPort: 0,
      rate: 0,
      startMs: START,
      env: {
        WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
        WEBHOOK_SECRETS: `whsec_${Buffer.alloc(24, 7).toString('base64')}`,
      },
      logSink: (l) => void (l.includes('"level":50') && console.error(l)),
    });
    bucket = new OssClient({
      endpoint: stack.emulator.url,
      region: stack.emulator.region,
      pathStyle: true,
      credentials: staticCredentials({
        accessKeyId: DEFAULT_ACCESS_KEY.id,
        accessKeySecret: DEFAULT_ACCESS_KEY.secret,
      }),
    }).bucket(DEFAULT_BUCKET);
    // --no-sandbox: CI containers run as root, where chromium's sandbox cannot start.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    receiver?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('signs in with the one-time link, drops the token from the address, and the link works only once', async () => {
    const link = consoleLoginUrl(stack)!;
    await page.goto(link);
    await page.getByRole('heading', { name: 'Channels' }).waitFor();
    expect(page.url()).toBe(`${stack.runtime.httpUrl}/console/`);
    const cookies = await context.cookies();
    expect(cookies).toEqual([
      expect.objectContaining({ name: 'livecycle_console', httpOnly: true, sameSite: 'Strict', path: '/console' }),
    ]);
    // The page's HTML and script carry no secret.
    const html = await (await request(`${stack.runtime.httpUrl}/console/`)).body.text();
    expect(html).not.toContain(stack.apiSecret);
    expect(html).not.toContain(stack.apiToken);

    const second = await browser.newContext();
    const other = await second.newPage();
    await other.goto(link);
    await other.getByRole('alert').filter({ hasText: 'used already' }).waitFor();
    await shot('sign-in', 375, other);
    // The sign-in form takes the api's bearer token; a wrong one is refused.
    await other.getByLabel('API token').fill('not-the-token-0123456789');
    await other.keyboard.press('Enter');
    await other.getByRole('alert').filter({ hasText: 'not the api token' }).waitFor();
    await other.getByLabel('API token').fill(stack.apiToken);
    await other.keyboard.press('Enter');
    await other.getByRole('heading', { name: 'Channels' }).waitFor();
    await second.close();
  });

  it('shows a channel created through the api without a reload', async () => {
    expect((await api('POST', '/channels', { name: 'cam-browser', description: 'lobby' })).status).toBe(201);
    // The api instance reuses the list's reads for LIST_FRESH_MS of the (frozen) clock.
    await passStackTime(stack, LIST_FRESH_MS);
    await page.locator('a[data-channel="cam-browser"]').waitFor();
    await expect(page.locator('tr[data-name="cam-browser"] .state').textContent()).resolves.toContain('idle');
  });

  it('turns the row live when a push starts, plays it live, and the VOD of the push plays in the page', async () => {
    const { body } = await api('POST', '/channels/cam-browser/publish-url');
    await stack.emulator.ingest.start({ bucket: DEFAULT_BUCKET, channel: 'cam-browser', signedUrl: body.publishUrl });
    await passStackTime(stack, 12_000);
    await page.locator('tr[data-name="cam-browser"] .state', { hasText: 'live' }).waitFor();
    await expect(page.locator('tr[data-name="cam-browser"] td[data-label="Resolution"]').textContent()).resolves.toBe(
      '320×180',
    );
    await shot('channels');
    await shot('channels-375', 375);
    await page.setViewportSize({ width: 1280, height: 900 });
    // While live, the channel's live playlist plays in the page.
    await page.locator('a[data-channel="cam-browser"]').click();
    await page.getByRole('button', { name: 'Watch live' }).click();
    await videoPlays();
    await page.getByRole('link', { name: '← All channels' }).click();

    await stack.emulator.ingest.stop({ bucket: DEFAULT_BUCKET, channel: 'cam-browser' });
    // The encoder reconnects inside the reconnect window: one broadcast of two pushes, a gap between.
    await passStackTime(stack, 20_000);
    await stack.emulator.ingest.start({ bucket: DEFAULT_BUCKET, channel: 'cam-browser', signedUrl: body.publishUrl });
    await passStackTime(stack, 10_000);
    await stack.emulator.ingest.stop({ bucket: DEFAULT_BUCKET, channel: 'cam-browser' });
    // Reconnect window (60 s) over, then the next poll concludes the broadcast and builds its VOD.
    await passStackTime(stack, 150_000);
    const vods = await new Ledger(bucket).listVods('cam-browser');
    expect(vods.map((v) => v.status)).toEqual(['ready']);
    // A cleanup dry run (s.yaml's DRY_RUN default): its plan is what the channel view shows.
    expect((await stack.runtime.invoke('cleanup-orphans', Buffer.from('{}'))).status).toBe('succeeded');

    // Keyboard only: focus the channel's link and follow it.
    await page.locator('a[data-channel="cam-browser"]').focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'cam-browser' }).waitFor();
    await page.getByText('2 pushes merged (reconnects)').waitFor();
    const play = page.getByRole('button', { name: /^Play / });
    await play.focus();
    await page.keyboard.press('Enter');
    await videoPlays();
    // The webhooks sent for the channel, each with its delivery.
    expect(delivered.map((b) => (JSON.parse(b) as { type: string }).type)).toContain('vod.ready');
    await page.getByRole('cell', { name: 'vod.ready' }).waitFor();
    await expect(
      page.getByRole('row').filter({ hasText: 'vod.ready' }).getByRole('cell').nth(2).textContent(),
    ).resolves.toMatch(/^delivered /);
    await page.getByText(/^Dry run of .*: /).waitFor();
    await shot('channel');
    await shot('channel-375', 375);
  });

  it('shows cost per month per channel and a drift panel', async () => {
    // The channel view's cost comes from the cost report (storage as the cleanup run above listed it).
    await page.getByRole('heading', { name: 'Cost per month' }).waitFor();
    await page.getByText(/^¥[0-9.]+ a month: storage ¥/).waitFor();
    await page.getByText(/^Storage as cleanup last listed it/).waitFor();
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Channels' }).click();
    await expect(
      page.locator('tr[data-name="cam-browser"] td[data-label="Cost / month"]').textContent(),
    ).resolves.toMatch(/^¥[0-9.]+$/);
    // A folder no channel of livecycle wrote: drift says to leave it alone.
    await bucket.putObject('someone-else/notes.txt', Buffer.from('not ours'));
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Drift' }).click();
    await page.getByRole('cell', { name: 'foreign-prefix' }).waitFor();
    await expect(page.getByRole('row').filter({ hasText: 'someone-else/' }).textContent()).resolves.toContain('leave');
    await shot('drift');
  });

  it('answers 401 JSON to every data route without a session', async () => {
    for (const path of [
      '/console/api/channels',
      '/console/api/channels/cam-browser',
      '/console/api/session',
      '/console/api/drift',
    ]) {
      const res = await request(`${stack.runtime.httpUrl}${path}`);
      expect(res.statusCode).toBe(401);
      expect(await res.body.json()).toMatchObject({ error: { code: 'no_session' } });
    }
    const forged = await request(`${stack.runtime.httpUrl}/console/api/channels`, {
      headers: { cookie: 'livecycle_console=eyJpZCI6ImEiLCJtIjoidG9rZW4iLCJleHAiOjk5OTk5OTk5OTk5OTl9.AAAA' },
    });
    expect(forged.statusCode).toBe(401);
  });

  it('lets no cross-site form post act, though the browser holds a session', async () => {
    const target = `${stack.runtime.httpUrl}/console/api/channels/cam-browser/disable`;
    // Another site: localhost is a different site from 127.0.0.1.
    const evil: Server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(
        `<form id="f" method="POST" action="${target}" enctype="text/plain"><input name='{"a":"' value='"}'></form>` +
          '<script>document.getElementById("f").submit()</script>',
      );
    });
    await new Promise<void>((done) => evil.listen(0, '127.0.0.1', done));
    const port = (evil.address() as AddressInfo).port;
    try {
      const answered = page.waitForResponse((r) => r.url() === target);
      await page.goto(`http://localhost:${port}/`);
      expect((await answered).status()).toBeGreaterThanOrEqual(400);
    } finally {
      evil.close();
    }
    // Even with the session cookie (a browser without SameSite), a foreign Origin is refused.
    const cookie = (await context.cookies()).find((c) => c.name === 'livecycle_console')!;
    const withCookie = await request(target, {
      method: 'POST',
      headers: {
        cookie: `${cookie.name}=${cookie.value}`,
        origin: `http://localhost:${port}`,
        'content-type': 'application/json',
      },
      body: '{}',
    });
    expect(withCookie.statusCode).toBe(403);
    expect((await bucket.getLiveChannelInfo('cam-browser')).status).toBe('enabled');
    expect(await new Ledger(bucket).listConsoleActions('cam-browser')).toEqual([]);
  });

  it('disables through the page, writing who did it to the ledger', async () => {
    await page.goto(`${stack.runtime.httpUrl}/console/#/channels/cam-browser`);
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('button', { name: 'Enable' }).waitFor();
    expect((await bucket.getLiveChannelInfo('cam-browser')).status).toBe('disabled');
    const actions = await new Ledger(bucket).listConsoleActions('cam-browser');
    expect(actions).toEqual([
      expect.objectContaining({
        action: 'disable',
        outcome: 'done',
        who: expect.stringMatching(/^console:login-link:/),
      }),
    ]);
  });
});
