/**
 * A local webhook receiver for the demo: the functions' WEBHOOK_URL points here, so every
 * lifecycle event they emit is visible. Deliveries are verified as a real receiver would
 * (Standard Webhooks signature with the shared `whsec_` secret, on the stack's clock) and
 * deduplicated by event id, since delivery is at-least-once (docs/ledger.md).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../shared/clock';
import { verifyWebhook, type WebhookPayload } from '../../shared/webhooks';

export interface WebhookReceiver {
  url: string;
  /** Verified events, first delivery of each id, in arrival order. */
  readonly events: readonly WebhookPayload[];
  /** Deliveries whose signature did not verify (a demo failure if any). */
  readonly rejected: number;
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret: string, clock: Clock): Promise<WebhookReceiver> {
  const events: WebhookPayload[] = [];
  let rejected = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const verdict = verifyWebhook(req.headers, body, [secret], clock.now());
      if (!verdict.ok) {
        rejected++;
        res.writeHead(401).end();
        return;
      }
      const payload = JSON.parse(body.toString('utf8')) as WebhookPayload;
      if (!events.some((e) => e.id === payload.id)) events.push(payload);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    events,
    get rejected() {
      return rejected;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
