import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A port the local runtime cannot use, with the variable that moves it. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly variable: string,
  ) {
    super(
      `port ${port} is already in use; stop what is listening there or set ${variable} to another port (0 picks a free one)`,
    );
    this.name = 'PortInUseError';
  }
}

/** Listens on host:port and resolves with the port bound (useful with port 0). */
export async function listen(server: Server, port: number, host: string, variable: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(port, variable) : error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
  return (server.address() as AddressInfo).port;
}

/** Stops accepting, drops idle keep-alive connections and waits for the server to close. */
export async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  server.closeIdleConnections();
  // In-flight requests get a moment to finish; then whatever is left is cut so nothing keeps the process alive.
  const cutOff = setTimeout(() => server.closeAllConnections(), 2_000);
  try {
    await closed;
  } finally {
    clearTimeout(cutOff);
  }
}
