/**
 * The emulator in its own process (so the client under test and the server each get a core),
 * started by bench/lib/emulator.ts over IPC. It counts the requests the HTTP server receives via
 * Node's `http.server.request.start` diagnostics channel — at the emulator, without touching its
 * code — per LiveChannel (path style: /<bucket>/<channel>?live…) and per kind.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { ControlledClock } from '../../shared/clock';
import { createLogger } from '../../shared/log';
import { startEmulator } from '../../local/emulator';
import { ADMIN_PREFIX } from '../../local/emulator/admin-client';

interface ChildOptions {
  dataDir?: string;
  buckets?: string[];
  /** Start the emulator clock here (epoch ms) running at `clockRate`; real time when absent. */
  clockStartMs?: number;
  clockRate?: number;
}

const opts = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;

let total = 0;
let admin = 0;
const byKind = new Map<string, number>();
const byChannel = new Map<string, number>();

function kindOf(path: string, query: string): string {
  const params = new URLSearchParams(query);
  if (params.has('live')) {
    const comp = params.get('comp');
    return comp ? `live:${comp}` : 'live';
  }
  if (params.has('delete')) return 'delete-multiple';
  if (params.get('list-type') === '2') return 'list-v2';
  return path.split('/').length > 2 && path.split('/')[2] ? 'object' : 'bucket';
}

subscribe('http.server.request.start', (message) => {
  const req = (message as { request: IncomingMessage }).request;
  const url = req.url ?? '/';
  if (url.startsWith(ADMIN_PREFIX)) {
    admin++;
    return;
  }
  total++;
  if (process.env.BENCH_EMU_TRACE) console.error('emu', req.headers.host, url);
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);
  const kind = kindOf(path, query);
  byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
  if (kind.startsWith('live')) {
    // Path style /<bucket>/<channel>, or virtual-hosted <bucket>.<host> + /<channel> (ali-oss
    // sends its LiveChannel calls that way even to an IP endpoint); ListLiveChannel has no channel.
    const host = req.headers.host ?? '';
    const virtualHosted = !/^(\d+\.\d+\.\d+\.\d+|localhost|\[[^\]]*\])(:\d+)?$/.test(host);
    const channel = decodeURIComponent(path.split('/')[virtualHosted ? 1 : 2] ?? '');
    if (channel) byChannel.set(channel, (byChannel.get(channel) ?? 0) + 1);
  }
});

async function main(): Promise<void> {
  const clock =
    opts.clockStartMs !== undefined
      ? new ControlledClock({ startMs: opts.clockStartMs, rate: opts.clockRate ?? 1 })
      : undefined;
  const emu = await startEmulator({
    dataDir: opts.dataDir,
    buckets: opts.buckets,
    clock,
    logger: createLogger({ name: 'bench-emulator', level: 'silent' }),
  });
  process.on('message', (msg: { type: string; reset?: boolean }) => {
    if (msg.type === 'counts') {
      process.send!({
        type: 'counts',
        total,
        admin,
        byKind: Object.fromEntries(byKind),
        byChannel: Object.fromEntries(byChannel),
      });
      if (msg.reset) {
        total = 0;
        admin = 0;
        byKind.clear();
        byChannel.clear();
      }
    } else if (msg.type === 'usage') {
      process.send!({ type: 'usage', maxRssKiB: process.resourceUsage().maxRSS, cpu: process.cpuUsage() });
    } else if (msg.type === 'stop') {
      void emu.stop().finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ type: 'ready', url: emu.url, region: emu.region, accessKey: emu.accessKeys[0] });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
