import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a local server that can be cut: from then on its port refuses connections and the
 * connections open through it are closed, as when a service's endpoint becomes unreachable. The server behind it
 * keeps running (dynalite cannot be stopped while it handles a request: it throws "Database is closed").
 */
export interface CuttableProxy {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly cutOff: boolean;
  cut(): Promise<void>;
  stop(): Promise<void>;
}

export async function startCuttableProxy(targetPort: number): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // A peer going away mid-request is the point of cutting; it must not crash the process.
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    track(client);
    const upstream = connect(targetPort, '127.0.0.1');
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  let cutOff = false;
  let closed: Promise<void> | undefined;
  const close = () => {
    cutOff = true;
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
    return closed;
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get cutOff() {
      return cutOff;
    },
    cut: close,
    stop: close,
  };
}
