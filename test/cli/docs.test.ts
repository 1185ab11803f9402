/**
 * The first-hour docs say what the code does: the Node version README asks for is package.json's
 * `engines`, and no doc tells anyone to run the CLI through npx (which may ask the npm registry
 * for a package named `livecycle` when the bin is not linked).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers';

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

describe('first-hour docs', () => {
  it("README's Node version is package.json's engines", () => {
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    const version = /^>=(\d+\.\d+\.\d+)$/.exec(engines)?.[1];
    expect(version, engines).toBeDefined();
    expect(read('README.md')).toContain(`Node.js ≥ ${version} and npm`);
  });

  it('commands are given as node bin/livecycle.js, never npx livecycle', () => {
    for (const file of ['README.md', 'docs/deploy.md']) {
      const text = read(file);
      // The one mention of npx explains why it is not used.
      const npx = text.split('\n').filter((line) => /npx livecycle/.test(line));
      expect(
        npx.every((line) => /registry/.test(line)),
        `${file}: ${npx.join(' | ')}`,
      ).toBe(true);
      expect(text).toContain('node bin/livecycle.js');
    }
  });
});
