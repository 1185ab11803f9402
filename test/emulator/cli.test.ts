/** `livecycle emulator` argument handling: help, usage errors and their exit codes. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { emulatorCommand } from '../../local/commands/emulator';

afterEach(() => vi.restoreAllMocks());

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  return { out, err };
}

describe('livecycle emulator', () => {
  it('--help prints the usage and exits 0', async () => {
    const { out } = capture();
    expect(await emulatorCommand.run(['--help'])).toBe(0);
    expect(out.join('')).toContain('--fault OP:RATE:KIND');
  });

  it.each([
    [['--port', 'abc']],
    [['--port', '70000']],
    [['--bucket', 'Bad_Name']],
    [['--access-key', 'nocolon']],
    [['--fault', '*:2:reset']],
    [['--fault', 'GetObject:0.1:explode']],
    [['--unknown']],
  ])('usage error %j exits 2 with a message', async (argv) => {
    const { err } = capture();
    expect(await emulatorCommand.run(argv)).toBe(2);
    expect(err.join('')).toMatch(/^livecycle emulator: /);
  });

  it.each([
    [[], 403],
    [['--public-read'], 404],
  ])(
    '%j: an anonymous GET of a missing object answers %i (private buckets refuse it; public-read ones look)',
    async (flags, status) => {
      const { out } = capture();
      const running = emulatorCommand.run(['--port', '0', ...flags]);
      await vi.waitFor(() => expect(out.join('')).toContain('listening on'), { timeout: 5_000, interval: 5 });
      const url = /listening on (\S+)/.exec(out.join(''))![1]!;
      expect((await fetch(`${url}/livecycle-demo/nothing-here.m3u8`)).status).toBe(status);
      process.emit('SIGINT');
      expect(await running).toBe(0);
    },
  );
});
