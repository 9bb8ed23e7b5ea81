import { once } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** The HTTP plumbing the Limio and Zuora sandboxes share: JSON answers, bounded bodies, a listener stop() can close. */

/** A form or JSON body larger than this is not a request either sandbox serves. */
const MAX_REQUEST_BODY_BYTES = 64 * 1024;

export function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (response.destroyed || response.headersSent) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

/** The whole body as text, reading on past the limit (so the client can read the answer) but keeping none of it. */
export async function readBody(request: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_REQUEST_BODY_BYTES) chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface ServedSandbox {
  /** http://HOST:PORT, the host in brackets when it is IPv6. */
  readonly baseUrl: string;
  /** Closes the server and every connection, kept-alive and hanging ones included. */
  stop(): Promise<void>;
}

/** Listens on host:port (0 = ephemeral), counting connections in `stats` and tracking them for stop(). */
export async function serveSandbox(
  server: Server,
  options: { port: number | undefined; host: string; name: string; stats: { connections: number } },
): Promise<ServedSandbox> {
  const { host, stats } = options;
  const sockets = new Set<Socket>();
  // The client's keep-alive connections must not hold stop() open.
  server.keepAliveTimeout = 5_000;
  server.on('connection', (socket: Socket) => {
    stats.connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`${options.name} did not get a TCP port`);
  return {
    baseUrl: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
