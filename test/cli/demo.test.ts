/**
 * Issue #6's "done when": `livecycle start --demo` runs the whole story on the real local stack
 * and exits 0, narrating every step in order.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEMO_STEPS } from '../../local/demo/story';
import { cli } from './helpers';

describe('livecycle start --demo', () => {
  it('runs the story to completion, every step narrated in order, and removes its data dir', async () => {
    const res = await cli(['start', '--demo']);
    expect(res.code, res.stderr).toBe(0);
    const steps = [...res.stdout.matchAll(/^\[\d\d:\d\d:\d\d\]\s+(\d+)\. ([^:]+):/gm)].map((m) => [Number(m[1]), m[2]]);
    expect(steps).toEqual(DEMO_STEPS.map((name, i) => [i + 1, name]));
    expect(res.stdout).toContain('DRY_RUN=false');
    expect(res.stdout).toMatch(/vod-\d{8}T\d{6}Z\.m3u8 in OSS: \d+ fragments/);
    expect(res.stdout).toMatch(
      /cam-demo: channel\.created #1 → stream\.started #2 → stream\.ended #3 → vod\.ready #4 → channel\.disabled #5 → channel\.deleted #6/,
    );
    expect(res.stdout).toMatch(/^demo complete:/m);
    const dataDir = /data: (\S+) \(removed at the end\)/.exec(res.stdout)?.[1];
    expect(dataDir).toBeDefined();
    expect(existsSync(dataDir!)).toBe(false);
  }, 120_000);

  it('refuses options that would point it at another stack (exit 2)', async () => {
    const res = await cli(['start', '--demo', '--data', '.data']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--demo runs its own stack; it does not take --data');
  });
});
