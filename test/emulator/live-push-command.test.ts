import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPushCommand } from '../../local/commands/push';
import type { Emulator } from '../../local/emulator';
import { oss } from './helpers';
import { quietEmulator } from './setup';
import { channelXml } from './live-helpers';

let emu: Emulator;
beforeAll(async () => {
  emu = await quietEmulator();
  for (const name of ['cmd-a', 'cmd-b', 'cmd-c']) {
    const res = await oss(emu, {
      method: 'PUT',
      key: name,
      query: { live: '' },
      body: channelXml('<Type>HLS</Type><FragDuration>2</FragDuration><FragCount>3</FragCount>'),
    });
    expect(res.status).toBe(200);
  }
});
afterAll(() => emu.stop());

function run(argv: string[], interrupt?: AbortSignal) {
  const out: string[] = [];
  const err: string[] = [];
  const command = createPushCommand({
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    interrupt: interrupt ?? new AbortController().signal,
    pollMs: 5,
  });
  return { out, err, code: command.run(argv) };
}

const started = (out: string[]) =>
  vi.waitFor(() => expect(out.join('\n')).toContain('pushing to'), { timeout: 5_000, interval: 5 });

describe('livecycle push', () => {
  it('prints help and refuses bad usage with exit code 2', async () => {
    const help = run(['--help']);
    expect(await help.code).toBe(0);
    expect(help.out.join('\n')).toContain('Usage: livecycle push <channel>');
    for (const argv of [
      [],
      ['a', 'b'],
      ['a', '--seconds', '0'],
      ['a', '--seconds', 'x'],
      ['a', '--bogus'],
      ['a', '--endpoint', 'nope'],
      ['a', '--url', 'http://x/live/a'],
    ]) {
      const r = run(argv);
      expect(await r.code, argv.join(' ')).toBe(2);
      expect(r.err[0]).toMatch(/^livecycle push: /);
    }
  });

  it('fails with exit code 1 when the emulator is unreachable or refuses the push', async () => {
    const unreachable = run(['cmd-a', '--endpoint', 'http://127.0.0.1:1']);
    expect(await unreachable.code).toBe(1);
    expect(unreachable.err[0]).toContain('cannot reach the emulator');
    const missing = run(['nope', '--endpoint', emu.url]);
    expect(await missing.code).toBe(1);
    expect(missing.err[0]).toContain('NoSuchLiveChannel');
  });

  it('pushes for N seconds of emulator time, reporting every fragment', async () => {
    const r = run(['cmd-a', '--seconds', '5', '--endpoint', emu.url, '--playlist', 'cli.m3u8']);
    await started(r.out);
    await emu.clock.advance(6_000);
    expect(await r.code).toBe(0);
    expect(r.out[0]).toMatch(
      /^pushing to livecycle-demo\/cmd-a \(playlist cli\.m3u8\) from 127\.0\.0\.1:\d+ for 5 s of emulator time$/,
    );
    expect(r.out).toContain('the emulator clock is frozen (rate 0): waiting for it to be advanced');
    // The clock jumps 6 s at once, so how much time each line reports depends on the poll.
    expect(r.out.filter((l) => l.startsWith('fragment ')).map((l) => l.replace(/\(.*\)/, ''))).toEqual([
      'fragment 1 written ',
      'fragment 2 written ',
      'fragment 3 written ',
    ]);
    expect(r.out.at(-1)).toBe('stopped after 3 fragment(s)');
    expect((await oss(emu, { method: 'GET', key: 'cmd-a/cli.m3u8' })).status).toBe(200);
  });

  it('stops the push on interrupt and exits 130', async () => {
    const ctrlC = new AbortController();
    const r = run(['cmd-b', '--seconds', '60', '--endpoint', emu.url], ctrlC.signal);
    await started(r.out);
    await emu.clock.advance(2_000);
    await vi.waitFor(() => expect(r.out).toContain('fragment 1 written (2.0 s of 60 s)'), {
      timeout: 5_000,
      interval: 5,
    });
    ctrlC.abort();
    expect(await r.code).toBe(130);
    expect(r.out.at(-1)).toBe('interrupted: push stopped after 1 fragment(s)');
    expect(emu.ingest.active()).toEqual([]);
  });

  it('exits 1 when the emulator ends the push early (channel disabled)', async () => {
    const r = run(['cmd-c', '--seconds', '60', '--endpoint', emu.url]);
    await started(r.out);
    expect((await oss(emu, { method: 'PUT', key: 'cmd-c', query: { live: '', status: 'disabled' } })).status).toBe(200);
    await emu.clock.advance(10_000);
    expect(await r.code).toBe(1);
    expect(r.err.at(-1)).toContain('ended the push early after 5 fragment(s)');
  });
});
