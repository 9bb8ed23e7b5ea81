import { createServer, type Server, type Socket } from 'node:net';

export interface StalledServer {
  /** http://127.0.0.1:PORT, for an SDK endpoint or a base URL. */
  readonly url: string;
  /** Requests started on it (a request line seen), retries included. */
  requests(): number;
  stop(): Promise<void>;
}

/**
 * Accepts TCP connections and reads requests, but never answers: the fault a client's request timeout exists
 * for (a stalled AWS endpoint or Limio), which a closed port (refused at once) does not show.
 */
export async function startStalledServer(): Promise<StalledServer> {
  const sockets = new Set<Socket>();
  let requests = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => {
      if (/^(POST|GET|PUT) /.test(chunk.toString('latin1'))) requests += 1;
    });
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
