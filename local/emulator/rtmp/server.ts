/**
 * The emulator's RTMP ingest (`livecycle emulator --rtmp-port N`): accepts publishers like an
 * OSS ingest endpoint and hands each accepted publish to the LiveChannel Ingest, which checks
 * the signed publish URL exactly as for a simulated push. See docs/emulator.md "Real RTMP ingest".
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../../shared/log';
import type { Ingest } from '../live/ingest';
import { bucketOfIngestHost, withBucketHost } from '../live/ingest-host';
import { listenOn } from '../listen';
import { OssErrorResponse, type EmuContext } from '../types';
import { PublishRefused, RtmpConnection, type PublishRequest } from './connection';
import { RtmpPublish, type PublishHooks } from './publish';

/** OSS's RTMP app is always `live` (reference §11.1). */
const APP = 'live';

/**
 * The refusal code an encoder sees. UNCONFIRMED: the reference does not say what OSS answers;
 * NetStream.Publish.BadName is the standard onStatus code for a refused publish, and the
 * description carries the OSS error code and message (ffmpeg prints it as "Server error: …").
 */
const REFUSED = 'NetStream.Publish.BadName';

/** An OSS error as the encoder sees it: `<Code>: <message>` in the onStatus description. */
function refusal(err: unknown): unknown {
  return err instanceof OssErrorResponse ? new PublishRefused(REFUSED, `${err.code}: ${err.message}`) : err;
}

export interface IngestTarget {
  bucket: string;
  channel: string;
  /** The publish URL as the simulated push takes it: `rtmp://<bucket>.<host>/live/<channel>?<query>`. */
  signedUrl: string;
}

/**
 * Bucket, channel and signed URL of a publish: the host the encoder connected to (tcUrl, see
 * live/ingest-host.ts for which bucket it names) plus `/live/` plus the stream name, which is
 * `<channel>?<signed query>` (an encoder splits the publish URL there).
 */
export function ingestTarget(
  req: Pick<PublishRequest, 'app' | 'tcUrl' | 'streamName'>,
  buckets: readonly string[],
): IngestTarget {
  if (req.app.split('?')[0] !== APP)
    throw new PublishRefused(
      REFUSED,
      `InvalidArgument: the RTMP application must be "${APP}" (rtmp://<host>/${APP}/<channel>?<query>), not "${req.app}".`,
    );
  let host: URL;
  try {
    host = new URL(req.tcUrl);
  } catch {
    host = new URL('rtmp://127.0.0.1'); // no usable tcUrl: like an IP host
  }
  let bucket: string;
  try {
    bucket = bucketOfIngestHost(host.hostname, buckets);
  } catch (err) {
    throw refusal(err);
  }
  const q = req.streamName.indexOf('?');
  const channel = q < 0 ? req.streamName : req.streamName.slice(0, q);
  if (channel === '')
    throw new PublishRefused(REFUSED, 'InvalidArgument: the stream name must be <channel>?<signed query>.');
  let url: URL;
  try {
    url = new URL(`rtmp://${host.host}/${APP}/${req.streamName}`);
  } catch {
    throw new PublishRefused(REFUSED, `InvalidArgument: ${req.tcUrl}/${req.streamName} is not a valid URL.`);
  }
  const signedUrl = withBucketHost(url, buckets);
  let decoded: string;
  try {
    decoded = decodeURIComponent(channel);
  } catch {
    throw new PublishRefused(REFUSED, `InvalidArgument: the channel ${channel} is badly percent-encoded.`);
  }
  return { bucket, channel: decoded, signedUrl };
}

export interface RtmpServerOptions {
  ctx: EmuContext;
  ingest: Ingest;
  log: Logger;
  hooks?: PublishHooks;
}

export class RtmpIngestServer {
  private server: Server;
  private sockets = new Set<Socket>();

  constructor(private opts: RtmpServerOptions) {
    const buckets = [...opts.ctx.buckets];
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.setNoDelay(true);
      new RtmpConnection(
        socket,
        {
          publish: async (req, drop) => {
            const publish = new RtmpPublish(opts.ctx.clock, drop, opts.hooks);
            let target: IngestTarget;
            try {
              target = ingestTarget(req, buckets);
              publish.attach(await opts.ingest.connect({ ...target, remoteAddr: req.remoteAddr, source: publish }));
            } catch (err) {
              throw refusal(err);
            }
            opts.log.info(
              { bucket: target.bucket, channel: target.channel, remoteAddr: req.remoteAddr },
              'rtmp publish accepted',
            );
            return publish;
          },
        },
        (message) => opts.log.warn({ problem: message }, 'rtmp connection dropped'),
      );
    });
  }

  listen(port: number, host: string): Promise<number> {
    return listenOn(this.server, port, host);
  }

  /**
   * Stops accepting connections; resolves once every connection is gone. Publishers still
   * connected are ended by the Ingest's close (last fragment stored, then dropped); call
   * `disconnectAll` after that for connections that never published.
   */
  stopAccepting(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  disconnectAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}
