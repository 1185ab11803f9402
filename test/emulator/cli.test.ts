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
});
