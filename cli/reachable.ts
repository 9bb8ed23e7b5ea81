/**
 * Whether anything accepts a TCP connection at a URL's host and port: undefined if so, else why not
 * (ECONNREFUSED, ENOTFOUND, ETIMEDOUT…). A command asks before a long run against a service whose client retries
 * for seconds, so that a runtime that is not running, or a wrong port, is said at once and by name.
 */
export async function unreachableReason(url: string, timeoutMs = 3_000): Promise<string | undefined> {
  // Imported here: every command's start (and --help) would otherwise load node:net for the sweep alone.
  const { connect } = await import('node:net');
  const parsed = new URL(url);
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (reason: string | undefined) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(timeoutMs, () => done(`ETIMEDOUT after ${timeoutMs / 1000} s`));
    socket.once('connect', () => done(undefined));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}
