// Runs the fauxqs SQS emulator in its own process. fauxqs is published as ES modules only, so the
// CommonJS project (and jest) talk to it over HTTP, as they would to SQS. Prints one JSON line with the
// port once listening, and stops when its parent closes stdin or sends SIGTERM/SIGINT.
import { startFauxqs } from 'fauxqs';

const port = Number(process.env.FAUXQS_PORT ?? 0);
const server = await startFauxqs({ port, host: '127.0.0.1', logger: false });
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
