// Runs dynalite (an in-memory DynamoDB server) in its own process on 127.0.0.1, for local/dynamodb-emulator.ts.
// Prints one JSON line with the port once listening, and stops when its parent closes stdin or sends SIGTERM/SIGINT.
//
// In a process of its own it does not share the runtime's event loop (every ledger and breaker call would
// otherwise queue behind the pipeline's own work, unlike DynamoDB in AWS), and dynalite's "Database is closed"
// throw, when it is stopped with a request under way, cannot take the runtime or a jest worker down with it.
'use strict';
const { PassThrough } = require('node:stream');
const dynalite = require('dynalite');

/** dynalite's own limit on a request body. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

// createTableMs 0: a table is ACTIVE as soon as CreateTable answers, as tests and the local runtime expect.
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
const [dynaliteHandler] = server.listeners('request');
server.removeAllListeners('request');
server.on('request', (request, response) => {
  // dynalite grants any origin (Access-Control-Allow-Origin: *) and any CORS preflight, so a web page open in a
  // browser on the machine could read and write its tables. The SDK never sends an Origin.
  if (request.headers.origin !== undefined) {
    response.writeHead(403, { 'Content-Type': 'application/json' });
    response.end(
      JSON.stringify({
        message: 'refused: requests from a web page (with an Origin header) cannot reach the local DynamoDB',
      }),
    );
    return;
  }
  void forwardWhole(request, response);
});

/**
 * Reads the whole request, then hands dynalite a copy of it. dynalite throws from its request's 'error' listener,
 * so a client that goes away in the middle of a request (a timed-out SDK call, Ctrl-C) would crash this process.
 * The copy cannot fail.
 */
async function forwardWhole(request, response) {
  const chunks = [];
  let size = 0;
  try {
    for await (const chunk of request) {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        response.writeHead(413).end();
        request.destroy();
        return;
      }
      chunks.push(chunk);
    }
  } catch {
    return; // the client went away; nobody is left to answer
  }
  const copy = Object.assign(new PassThrough(), { headers: request.headers, method: request.method, url: request.url });
  dynaliteHandler(copy, response);
  copy.end(Buffer.concat(chunks));
}

server.on('error', (error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
server.listen(Number(process.env.DYNALITE_PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  // The tables live in memory only: nothing to flush, and closing would wait for kept-alive client sockets.
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
