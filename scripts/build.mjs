// Builds one esbuild bundle per function declared in s.yaml (dist/<function>/index.js, exporting
// `handler` as FC's nodejs20 runtime expects, with LAZY_FILES and llhttp's .wasm files beside it)
// plus the CLI (dist/cli.js).
import { build } from 'esbuild';
import { readFileSync, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const requireFromRoot = createRequire(join(root, 'package.json'));
const quiet = process.argv.includes('--quiet');
const log = (msg) => {
  if (!quiet) console.log(msg);
};

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
  {
    name: 'undici/lib/dispatcher/client-h2.js',
    importer: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client\.js$/,
    path: './client-h2.js',
  },
  {
    name: 'undici/lib/web/fetch/body.js',
    importer: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client-h1\.js$/,
    path: '../web/fetch/body.js',
  },
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

/**
 * Node built-ins that pino loads at require time for one call each, replaced in the bundle by
 * what that call needs; loading them was ~3–4 ms of CPU per cold start (node:assert also pulls in
 * node:tty and node:net, node:worker_threads Node's whole worker machinery).
 * - sonic-boom's `assert(typeof fd === 'number', …)`: checked as before, and node:assert is
 *   required only to throw its AssertionError when the check fails.
 * - pino's `isMainThread`, read once to decide whether to flush its stdout stream at exit (FC,
 *   the local runtime and the bench all require bundles on the main thread; a wrong `true` in a
 *   worker would only add that flush).
 */
const BUILTIN_SHIMS = [
  {
    name: 'assert',
    importer: /[\\/]sonic-boom[\\/]index\.js$/,
    contents: `module.exports = (value, message) => { if (!value) require('node:assert')(value, message); };\n`,
  },
  {
    name: 'worker_threads',
    importer: /[\\/]pino[\\/]lib[\\/]tools\.js$/,
    contents: `module.exports = { isMainThread: true };\n`,
  },
];

const shimBuiltins = {
  name: 'shim-builtins',
  setup(b) {
    b.onResolve({ filter: /^(assert|worker_threads)$/ }, (args) => {
      const hit = BUILTIN_SHIMS.find((m) => m.name === args.path && m.importer.test(args.importer));
      return hit ? { path: hit.name, namespace: 'builtin-shim' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin-shim' }, (args) => ({
      contents: BUILTIN_SHIMS.find((m) => m.name === args.path).contents,
      loader: 'js',
    }));
  },
};

/**
 * undici's HTTP/1 parser (llhttp) is WebAssembly shipped as base64 inside two JS modules, 141 KB of
 * each bundle's 490 KB that V8 had to read and compile on every cold start, although undici
 * loads one of them (SIMD, or the plain one as fallback) only when it opens its first connection.
 * They become binary files next to the bundle (dist/<fn>/llhttp*.wasm), read on that first
 * connection: no base64 in the bundle, no decoding.
 */
const LLHTTP_WASM = [
  { module: '../llhttp/llhttp_simd-wasm.js', file: 'llhttp_simd.wasm' },
  { module: '../llhttp/llhttp-wasm.js', file: 'llhttp.wasm' },
];

const llhttpAsFiles = {
  name: 'llhttp-as-files',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/llhttp\/llhttp(_simd)?-wasm\.js$/ }, (args) => {
      const hit = LLHTTP_WASM.find((w) => w.module === args.path);
      return hit && /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client-h1\.js$/.test(args.importer)
        ? { path: hit.file, namespace: 'llhttp-wasm' }
        : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'llhttp-wasm' }, (args) => ({
      contents: `module.exports = require('node:fs').readFileSync(require('node:path').join(__dirname, ${JSON.stringify(args.path)}));\n`,
      loader: 'js',
    }));
    b.onEnd(async (result) => {
      if (result.errors.length) return;
      const dir = dirname(b.initialOptions.outfile);
      await mkdir(dir, { recursive: true });
      for (const w of LLHTTP_WASM)
        await writeFile(join(dir, w.file), requireFromRoot(`undici/lib/llhttp/${basename(w.module)}`));
    });
  },
};

/**
 * openapi.json, which the api serves at GET /openapi.json (a dynamic import, so first request
 * only): 40 KB of object literal that V8 would still scan on every cold start inside the bundle.
 * It becomes a file next to the bundle (dist/api/openapi.json), read and parsed on that first
 * request.
 */
const openapiAsFile = {
  name: 'openapi-as-file',
  setup(b) {
    let used = false;
    b.onResolve({ filter: /[\\/]openapi\.json$/ }, (args) => {
      if (join(args.resolveDir, args.path) !== join(root, 'openapi.json')) return undefined;
      used = true;
      return { path: 'openapi.json', namespace: 'openapi-file' };
    });
    b.onLoad({ filter: /.*/, namespace: 'openapi-file' }, () => ({
      contents: `module.exports = JSON.parse(require('node:fs').readFileSync(require('node:path').join(__dirname, 'openapi.json'), 'utf8'));\n`,
      loader: 'js',
    }));
    b.onEnd(async (result) => {
      if (result.errors.length || !used) return;
      const dir = dirname(b.initialOptions.outfile);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'openapi.json'), readFileSync(join(root, 'openapi.json')));
    });
  },
};

/**
 * Dependencies built into files of their own next to the bundle (dist/<fn>/<file>) and required
 * at their first use, which the source makes lazy with require() (shared/oss/http.ts,
 * shared/lifecycle/playlist.ts). Lazy evaluation alone still left their code in the bundle for
 * V8 to read and pre-parse on every cold start (undici's 95 KB: ~7 ms of CPU). The bundle
 * reaches each listed module through one getter of its file, so they share one copy of the
 * package.
 * - undici: every invocation that sends a request needs it, but only from its first request.
 * - hls-parser: only VOD work reads or writes playlists (generate-vod, cleanup's retention, the
 *   api's VOD routes and DELETE).
 */
const LAZY_FILES = [
  {
    file: 'undici.js',
    modules: [
      'undici/lib/dispatcher/pool.js',
      'undici/lib/api/api-request.js',
      'undici/lib/global.js',
      'undici/lib/core/util.js',
    ],
  },
  { file: 'hls-parser.js', modules: ['hls-parser'] },
];

const lazyFiles = {
  name: 'lazy-files',
  setup(b) {
    b.onResolve({ filter: /^(undici|hls-parser)(\/|$)/ }, (args) => {
      if (/[\\/]node_modules[\\/]/.test(args.importer)) return undefined;
      const lazy = LAZY_FILES.find((f) => f.modules.includes(args.path));
      if (!lazy) return { errors: [{ text: `${args.path}: not in LAZY_FILES (scripts/build.mjs)` }] };
      return { path: args.path, namespace: 'lazy-file', pluginData: lazy.file };
    });
    b.onResolve({ filter: /.*/, namespace: 'lazy-file' }, (args) => ({ path: args.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-file' }, (args) => ({
      contents: `module.exports = require('./${args.pluginData}')[${JSON.stringify(args.path)}];\n`,
      loader: 'js',
    }));
    b.onEnd(async (result) => {
      if (result.errors.length) return;
      const { outfile, minify, sourcemap } = b.initialOptions;
      // Only the files the bundle still requires after tree shaking are written beside it.
      const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint);
      const used = new Set(
        Object.entries(output.inputs)
          .filter(([input, { bytesInOutput }]) => input.startsWith('lazy-file:') && bytesInOutput > 0)
          .map(([input]) => LAZY_FILES.find((f) => f.modules.includes(input.slice('lazy-file:'.length))).file),
      );
      for (const { file, modules } of LAZY_FILES.filter((f) => used.has(f.file))) {
        const getters = modules.map((m) => `  get ${JSON.stringify(m)}() { return require(${JSON.stringify(m)}); },`);
        await build({
          stdin: { contents: `module.exports = {\n${getters.join('\n')}\n};\n`, resolveDir: root, sourcefile: file },
          outfile: join(dirname(outfile), file),
          bundle: true,
          platform: 'node',
          target: 'node20',
          format: 'cjs',
          minify,
          sourcemap,
          plugins: [stubUnusedModules, llhttpAsFiles],
          legalComments: 'none',
          logLevel: 'warning',
        });
      }
    });
  },
};

/**
 * The console (shared/console) is a chunk of the api's own, dist/api/console.js: the api bundle
 * requires it on the first /console request instead of carrying it, so its cold start is the
 * api's alone. The page's assets (app.js with hls.js, app.css, index.html) go to dist/api/console/.
 */
const consoleAsChunk = {
  name: 'console-as-chunk',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/console$/ }, (args) =>
      /[\\/]shared[\\/]operations[\\/]api-handler\.ts$/.test(args.importer)
        ? { path: './console.js', external: true }
        : undefined,
    );
  },
};

async function buildConsole() {
  const out = join(root, 'dist', 'api');
  const web = join(root, 'console', 'web');
  await Promise.all([
    build(
      functionBuildOptions('api', {
        entryPoints: [join(root, 'shared', 'console', 'index.ts')],
        outfile: join(out, 'console.js'),
      }),
    ),
    build({
      entryPoints: [join(web, 'app.ts'), join(web, 'app.css')],
      outdir: join(out, 'console'),
      bundle: true,
      platform: 'browser',
      format: 'iife',
      target: 'es2020',
      minify: true,
      legalComments: 'none',
      logLevel: 'warning',
    }),
  ]);
  await writeFile(join(out, 'console', 'index.html'), readFileSync(join(web, 'index.html')));
}

/** The functions s.yaml deploys: each resource's `code: ./dist/<name>` names its source folder. */
export function functionsInSYaml(file = join(root, 's.yaml')) {
  const doc = parse(readFileSync(file, 'utf8'));
  return Object.entries(doc.resources ?? {}).map(([id, res]) => {
    const code = String(res?.props?.code ?? '');
    if (!code.startsWith('./dist/'))
      throw new Error(`s.yaml resource ${id}: code must be ./dist/<function>, got "${code}"`);
    return basename(code);
  });
}

/** esbuild options of one function's bundle (also used to profile a bundle's load: --profile). */
export function functionBuildOptions(fn, overrides = {}) {
  return {
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
    plugins: [stubUnusedModules, shimBuiltins, openapiAsFile, lazyFiles, ...(fn === 'api' ? [consoleAsChunk] : [])],
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
    ...overrides,
  };
}

async function main() {
  const started = Date.now();
  const declared = functionsInSYaml();
  const missing = declared.filter((fn) => !existsSync(join(root, 'functions', fn, 'index.ts')));
  const functions = declared.filter((fn) => !missing.includes(fn));
  // Everything that can be built is built (the CLI and the local runtime are usable while some
  // functions are still being written); the build still fails if s.yaml names a missing one.
  await Promise.all([
    ...functions.map((fn) => build(functionBuildOptions(fn))),
    ...(functions.includes('api') ? [buildConsole()] : []),
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
    throw new Error(
      `s.yaml names ${missing.map((fn) => `"${fn}"`).join(', ')} but ${missing.map((fn) => `functions/${fn}/index.ts`).join(', ')} does not exist`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`build failed: ${err.message}`);
    process.exit(1);
  });
}
