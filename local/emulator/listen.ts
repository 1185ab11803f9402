import type { Server } from 'node:net';

/** Listens on host:port (0 picks a free port) and resolves with the port bound; rejects on EADDRINUSE and the like. */
export function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
