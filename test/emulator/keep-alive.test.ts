/**
 * Idle keep-alive connections (issue #12): Node's default closes them after 5 s while SDK pools
 * keep sockets longer (ali-oss 15 s), and the next call on a pooled socket fails with "socket
 * hang up". One raw socket: a request, 6 s idle (past Node's default, far inside ours — the
 * verdict does not depend on machine speed), a second request on the same socket. And stop()
 * must not wait for idle sockets.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../local/emulator';
import { HEADERS_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS } from '../../local/emulator/server';
import { quietEmulator } from './setup';

const IDLE_MS = 6_000;

/** Sends one request and resolves with the status line once the whole response (Content-Length) is in. */
function exchange(socket: Socket, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = received.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (received.length < end + 4 + length) return;
      cleanup();
      resolve(head.split('\r\n')[0]!);
    };
    const onClose = () => {
      cleanup();
      reject(new Error('the server closed the connection'));
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.write(request);
  });
}

let emu: Emulator;
beforeAll(async () => {
  emu = await quietEmulator();
});
afterAll(() => emu.stop());

describe('keep-alive', () => {
  it('keeps idle connections at least 60 s, with headersTimeout above it', () => {
    expect(KEEP_ALIVE_TIMEOUT_MS).toBeGreaterThanOrEqual(60_000);
    expect(HEADERS_TIMEOUT_MS).toBeGreaterThan(KEEP_ALIVE_TIMEOUT_MS);
  });

  it(`a connection idle for ${IDLE_MS / 1000} s still carries the next request`, async () => {
    const url = new URL(emu.url);
    const socket = connect(Number(url.port), url.hostname);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const request = `GET /livecycle-demo/keep-alive.txt HTTP/1.1\r\nHost: ${url.host}\r\nConnection: keep-alive\r\n\r\n`;
    // Anonymous: 403 from the private bucket, which is all this needs.
    expect(await exchange(socket, request)).toBe('HTTP/1.1 403 Forbidden');
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    expect(socket.destroyed).toBe(false);
    expect(await exchange(socket, request)).toBe('HTTP/1.1 403 Forbidden');
    socket.destroy();
  }, 30_000);

  it('stop() closes idle keep-alive connections instead of waiting for them', async () => {
    const other = await quietEmulator();
    const url = new URL(other.url);
    const socket = connect(Number(url.port), url.hostname);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    await exchange(socket, `GET /livecycle-demo/x HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await other.stop();
    await closed;
  });
});
