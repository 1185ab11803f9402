/** Our client and the peer (ali-oss 6) pointed at a bench emulator, configured alike. */
import { createRequire } from 'node:module';
import { OssClient, staticCredentials } from '../../shared/oss';
import type { BenchEmulator } from './emulator';
import { BUCKET } from './constants';

// Also runs esbuild-bundled as CommonJS (cleanup-child), where import.meta is empty.
const require = createRequire(typeof __filename === 'string' ? __filename : import.meta.url);

export function ourClient(emu: Pick<BenchEmulator, 'url' | 'region' | 'accessKey'>, connections = 16): OssClient {
  return new OssClient({
    endpoint: emu.url,
    region: emu.region,
    pathStyle: true,
    credentials: staticCredentials({ accessKeyId: emu.accessKey.id, accessKeySecret: emu.accessKey.secret }),
    connections,
  });
}

/** The subset of ali-oss 6 we call (it ships no types). */
export interface AliOss {
  getChannelStatus(id: string): Promise<{ data: { Status: string } }>;
  getChannelHistory(id: string): Promise<{ records: unknown[] }>;
  listChannels(
    query: Record<string, unknown>,
  ): Promise<{ channels: { Name: string; Status: string }[]; nextMarker: string | null; isTruncated: boolean }>;
  listV2(
    query: Record<string, unknown>,
    options?: Record<string, unknown>,
  ): Promise<{ objects?: { name: string }[]; nextContinuationToken?: string; isTruncated: boolean }>;
  deleteMulti(names: string[], options?: { quiet?: boolean }): Promise<unknown>;
  putChannel(id: string, conf: Record<string, unknown>): Promise<unknown>;
}

/**
 * ali-oss against the emulator: the IP endpoint makes it address path style; V4 signing like
 * ours; its own keep-alive agent (agentkeepalive) capped at the same number of sockets as our
 * pool (`maxSockets` sets ali-oss's global agent).
 */
export function aliOss(emu: Pick<BenchEmulator, 'url' | 'region' | 'accessKey'>, maxSockets = 16): AliOss {
  const OSS = require('ali-oss') as new (opts: Record<string, unknown>) => AliOss;
  return new OSS({
    endpoint: emu.url,
    region: `oss-${emu.region}`,
    bucket: BUCKET,
    accessKeyId: emu.accessKey.id,
    accessKeySecret: emu.accessKey.secret,
    authorizationV4: true,
    secure: false,
    timeout: 60_000,
    maxSockets,
  });
}
