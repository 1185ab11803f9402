/**
 * The emulator verifies signatures on its own (issue #17): nothing under local/emulator/ may
 * import from shared/oss/, or a canonicalisation bug in the client's signer would also be in
 * the verifier and every test would pass while real OSS answers 403.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const EMULATOR = join(ROOT, 'local', 'emulator');
const BANNED = join(ROOT, 'shared', 'oss');

/** Static `from '…'` / `import '…'`, dynamic `import('…')`, `require('…')` — whatever the spacing or quotes. */
const SPECIFIERS = [
  /\bfrom\s*(['"`])([^'"`]+)\1/g,
  /\bimport\s*(['"`])([^'"`]+)\1/g,
  /\bimport\s*\(\s*(['"`])([^'"`]+)\1\s*\)/g,
  /\brequire\s*\(\s*(['"`])([^'"`]+)\1\s*\)/g,
];

/** The specifiers of `source` (in `file`) that resolve into shared/oss/. */
function bannedImports(file: string, source: string): string[] {
  const found: string[] = [];
  for (const pattern of SPECIFIERS) {
    for (const m of source.matchAll(pattern)) {
      const spec = m[2]!;
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      if (target === BANNED || target.startsWith(BANNED + sep)) found.push(spec);
    }
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(c|m)?[jt]s$/.test(e.name) && !/^segment-\d+\.ts$/.test(e.name) ? [path] : [];
  });
}

describe('local/emulator imports nothing from shared/oss', () => {
  it('the scanner recognises every import form (so the guard below cannot pass vacuously)', () => {
    const file = join(EMULATOR, 'live', 'x.ts');
    expect(bannedImports(file, `import { a } from '../../../shared/oss/signer';`)).toEqual([
      '../../../shared/oss/signer',
    ]);
    expect(bannedImports(file, `import type {\n  B,\n} from "../../../shared/oss/types";`)).toHaveLength(1);
    expect(bannedImports(file, `const m = await import ( '../../../shared/oss' );`)).toHaveLength(1);
    expect(bannedImports(file, 'const m = require(`../../../shared/oss/xml.js`);')).toHaveLength(1);
    expect(bannedImports(file, `export * from '../../../shared/oss/errors';`)).toHaveLength(1);
    expect(bannedImports(file, `import '../../../shared/oss/signer';`)).toHaveLength(1);
    // Other shared modules stay allowed; a name that merely starts with "oss" is not shared/oss.
    expect(
      bannedImports(
        file,
        `import { ControlledClock } from '../../../shared/clock';\nimport x from '../../../shared/oss-extra';`,
      ),
    ).toEqual([]);
  });

  it('no module under local/emulator/ resolves an import into shared/oss/', () => {
    const files = sourceFiles(EMULATOR);
    expect(files.length).toBeGreaterThan(20);
    const offenders = files.flatMap((f) =>
      bannedImports(f, readFileSync(f, 'utf8')).map((spec) => `${relative(ROOT, f)}: ${spec}`),
    );
    expect(offenders).toEqual([]);
  });
});
