// Runs the fauxqs SQS emulator in its own process. fauxqs is published as ES modules only, so the
// CommonJS project (and jest) talk to it over HTTP, as they would to SQS. Prints one JSON line with the
// port once listening, and stops when its parent closes stdin or sends SIGTERM/SIGINT.
//
// buildApp + listen rather than startFauxqs, for two reasons:
// - startFauxqs always listens on 0.0.0.0; the local runtime must listen on loopback only.
// - fauxqs names queues http://sqs.REGION.localhost:PORT/…, a host that does not resolve, and the AWS SDK
//   sends to a QueueUrl's host even when AWS_ENDPOINT_URL_SQS says otherwise. A store with an empty host
//   names them after the address the client used, http://127.0.0.1:PORT/000000000000/NAME, so production
//   code with a plain `new SQSClient({})` works unchanged. The stores are not exported by the package, so
//   they are loaded from beside its entry point (fauxqs is pinned to ~1.9.2 in package.json).
import { buildApp } from 'fauxqs';
import { refuseWhatTheBridgeDoesNotSend } from './sqs-emulator-guard.mjs';

const dist = import.meta.resolve('fauxqs');
const { SqsStore } = await import(new URL('./sqs/sqsStore.js', dist).href);
const { SnsStore } = await import(new URL('./sns/snsStore.js', dist).href);
const { S3Store } = await import(new URL('./s3/s3Store.js', dist).href);
const sqsStore = new SqsStore();
sqsStore.host = '';

const port = Number(process.env.FAUXQS_PORT ?? 0);
const app = buildApp({ logger: false, stores: { sqsStore, snsStore: new SnsStore(), s3Store: new S3Store() } });
// Before anything else sees a request: only the bridge's own SQS calls get through (sqs-emulator-guard.mjs).
refuseWhatTheBridgeDoesNotSend(app);
// Real SQS refuses a visibility beyond 12 h from the receive; fauxqs does not, so the guard refuses it here.
const { registerVisibilityCeiling, visibilityCeilingSecondsFromEnv } = await import('./sqs-visibility-ceiling.mjs');
registerVisibilityCeiling(app, { ceilingSeconds: visibilityCeilingSecondsFromEnv(process.env) });
const address = await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ port: Number(new URL(address).port) })}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await app.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
