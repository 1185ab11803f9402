import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'test/fixtures/lint/promise-misuse.ts');

/** `line → rule` for every `// expect: <rule>` comment in the fixture. */
function expectedProblems(): Array<{ line: number; ruleId: string }> {
  return readFileSync(FIXTURE, 'utf8')
    .split('\n')
    .flatMap((text, i) => {
      const m = /\/\/ expect: (\S+)/.exec(text);
      return m ? [{ line: i + 1, ruleId: m[1]! }] : [];
    });
}

describe('the linter (eslint.config.mjs)', () => {
  it('rejects floating promises and promises passed where a callback is expected', async () => {
    // The fixture is in the config's ignores so `npm run lint` stays green; lint it explicitly here.
    const eslint = new ESLint({ cwd: ROOT, ignore: false });
    const [result] = await eslint.lintFiles([FIXTURE]);
    const found = result!.messages.map((m) => ({ line: m.line, ruleId: m.ruleId ?? m.message }));
    const expected = expectedProblems();
    expect(expected.length).toBeGreaterThanOrEqual(4);
    expect(found).toEqual(expected);
    expect(result!.messages.every((m) => m.severity === 2)).toBe(true);
  }, 120_000);
});
