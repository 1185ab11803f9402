// Builds one esbuild bundle per function declared in s.yaml (dist/<function>/index.js, exporting
// `handler` as FC's nodejs20 runtime expects) plus the CLI (dist/cli.js).
import { build } from 'esbuild';
import { readFileSync, existsSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
const log = (msg) => { if (!quiet) console.log(msg); };

/**
 * Dependency modules the functions never run, replaced in their bundles by a stub that throws if
 * it ever is: each is evaluated (or compiled) on every cold start otherwise.
 * - undici's HTTP/2 client: only used for a connection that negotiated h2, which needs `allowH2`;
 *   we never set it (OSS and webhook receivers are spoken to over HTTP/1.1). Loading it loads
 *   node:http2 and node:tls.
 * - undici's fetch body: only used to send a FormData body; we send Buffers and strings.
 * - pino's thread-stream: only used by pino transports (worker threads); we log to stdout.
 */
const UNUSED_MODULES = [
  { name: 'undici/lib/dispatcher/client-h2.js', importer: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client\.js$/, path: './client-h2.js' },
  { name: 'undici/lib/web/fetch/body.js', importer: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client-h1\.js$/, path: '../web/fetch/body.js' },
  { name: 'thread-stream', importer: /[\\/]pino[\\/]lib[\\/]transport\.js$/, path: 'thread-stream' },
];

const stubUnusedModules = {
  name: 'stub-unused-modules',
  setup(b) {
    b.onResolve({ filter: /^(\.\/client-h2\.js|\.\.\/web\/fetch\/body\.js|thread-stream)$/ }, (args) => {
      const hit = UNUSED_MODULES.find((m) => m.path === args.path && m.importer.test(args.importer));
      return hit ? { path: hit.name, namespace: 'unused' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'unused' }, (args) => ({
      contents: `const fail = () => { throw new Error(${JSON.stringify(`${args.path} is not bundled (scripts/build.mjs UNUSED_MODULES)`)}); };\nmodule.exports = new Proxy(fail, { get: (_t, k) => (k === '__esModule' ? false : fail) });\n`,
      loader: 'js',
    }));
  },
};

/** The functions s.yaml deploys: each resource's `code: ./dist/<name>` names its source folder. */
export function functionsInSYaml(file = join(root, 's.yaml')) {
  const doc = parse(readFileSync(file, 'utf8'));
  return Object.entries(doc.resources ?? {}).map(([id, res]) => {
    const code = String(res?.props?.code ?? '');
    if (!code.startsWith('./dist/')) throw new Error(`s.yaml resource ${id}: code must be ./dist/<function>, got "${code}"`);
    return basename(code);
  });
}

async function main() {
  const started = Date.now();
  const declared = functionsInSYaml();
  const missing = declared.filter((fn) => !existsSync(join(root, 'functions', fn, 'index.ts')));
  const functions = declared.filter((fn) => !missing.includes(fn));
  // Everything that can be built is built (the CLI and the local runtime are usable while some
  // functions are still being written); the build still fails if s.yaml names a missing one.
  await Promise.all([
    ...functions.map((fn) =>
      build({
        entryPoints: [join(root, 'functions', fn, 'index.ts')],
        outfile: join(root, 'dist', fn, 'index.js'),
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        minify: true,
        sourcemap: 'linked',
        // Pre-installed in FC's nodejs20 runtime and only needed on the async-invoke path.
        external: ['@alicloud/fc2'],
        plugins: [stubUnusedModules],
        legalComments: 'none',
        logLevel: 'warning',
      }),
    ),
    build({
      entryPoints: [join(root, 'local', 'cli.ts')],
      outfile: join(root, 'dist', 'cli.js'),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      packages: 'external',
      sourcemap: 'linked',
      logLevel: 'warning',
    }),
  ]);
  log(`built ${functions.length} functions (${functions.join(', ')}) and the CLI in ${Date.now() - started} ms`);
  if (missing.length) {
    throw new Error(`s.yaml names ${missing.map((fn) => `"${fn}"`).join(', ')} but ${missing.map((fn) => `functions/${fn}/index.ts`).join(', ')} does not exist`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`build failed: ${err.message}`);
    process.exit(1);
  });
}
