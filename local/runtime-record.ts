import {
  closeSync,
  fchmodSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import * as path from 'node:path';
import type { Runtime } from './runtime';

/**
 * Where `npm start` says it listens, so the CLI's `--local` finds a runtime started on any ports (PORT=0 and the
 * like) and signs callouts as it expects, without values copied from its output. npm start writes it once ready
 * and removes it on a clean stop; a runtime killed outright leaves it behind, which the CLI reports as stale.
 *
 * It holds the callout password only when the runtime generated it (credentials the user chose stay in the user's
 * variables), so the file is the user's alone: mode 0600, in a directory only the user can write to, outside the
 * repository. The place is $XDG_RUNTIME_DIR when set: the per-user directory meant for exactly this (pid files and
 * sockets of running programs; 0700, on tmpfs, emptied at logout, so no record outlives the machine's uptime).
 * Elsewhere (macOS, containers) it is a directory of our own in the system's temporary directory, named by uid and
 * checked to be ours before anything is written to it. ~/.cache is for caches that may outlive the process, which
 * a record of a running process should not. ZLS_RUNTIME_RECORD names another file (the tests use their own).
 *
 * Only node built-ins here: the CLI loads this at every --local command.
 */

export const RUNTIME_RECORD_VARIABLE = 'ZLS_RUNTIME_RECORD';
const RECORD_VERSION = 1;

export interface RuntimeRecord {
  readonly version: typeof RECORD_VERSION;
  readonly pid: number;
  readonly startedAt: string;
  /** 127.0.0.1: where every port below listens. */
  readonly host: string;
  readonly ports: {
    /** The front door: callouts, and the /_local/* control endpoints. */
    readonly callout: number;
    readonly sqs: number;
    readonly dynamoDb: number;
    /** Absent when the runtime syncs to a real Limio tenant. */
    readonly limioSandbox?: number;
    /** Absent when the runtime sweeps a real Zuora tenant (zuoraBaseUrl then names it). */
    readonly zuoraSandbox?: number;
  };
  readonly calloutUrl: string;
  readonly queues: { readonly main: string; readonly deadLetter: string; readonly account?: string };
  readonly zuoraBaseUrl: string;
  readonly limioBaseUrl: string;
  /** rest: Basic is challenged first, as Zuora's default expects; http: Basic must be sent at once. */
  readonly apiKind: 'rest' | 'http';
  /**
   * The runtime's callout authentication as the CALLOUT_* variables the callout handler reads: the mode and what is
   * not secret, and CALLOUT_PASSWORD only when the runtime generated it.
   */
  readonly calloutAuth: Readonly<Record<string, string>>;
}

type Env = Readonly<Record<string, string | undefined>>;

function currentUser(): string {
  return typeof process.getuid === 'function' ? String(process.getuid()) : userInfo().username;
}

export function runtimeRecordPath(env: Env): string {
  const given = env[RUNTIME_RECORD_VARIABLE]?.trim();
  if (given) return path.resolve(given);
  const runtimeDir = env.XDG_RUNTIME_DIR?.trim();
  if (runtimeDir && path.isAbsolute(runtimeDir)) return path.join(runtimeDir, 'zuora-limio-sync', 'runtime.json');
  return path.join(tmpdir(), `zuora-limio-sync-${currentUser()}`, 'runtime.json');
}

/**
 * The record's directory must be a real directory of this user's that nobody else can write to: in a shared /tmp
 * another user could otherwise have made it first and swap the file under us. Throws saying what is wrong.
 */
function checkPrivateDirectory(dir: string): void {
  const stat = lstatSync(dir);
  if (!stat.isDirectory()) throw new Error(`${dir} is not a directory (a symbolic link?)`);
  if (typeof process.getuid === 'function' && stat.uid !== process.getuid())
    throw new Error(`${dir} belongs to another user`);
  if ((stat.mode & 0o022) !== 0) throw new Error(`${dir} can be written by other users`);
}

/** Writes the record owner-readable only (0600), whole or not at all. Throws when the place is not safe. */
export function writeRuntimeRecord(file: string, record: RuntimeRecord): void {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  checkPrivateDirectory(dir);
  const partial = `${file}.${process.pid}.partial`;
  // 'wx': never follows or reuses a file someone put there.
  const fd = openSync(partial, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, `${JSON.stringify(record, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(partial, file);
}

/** Removes the record if it is still this process's (a runtime started since has replaced it). Never throws. */
export function removeRuntimeRecord(file: string, record: Pick<RuntimeRecord, 'pid' | 'startedAt'>): boolean {
  try {
    const current = JSON.parse(readFileSync(file, 'utf8')) as Partial<RuntimeRecord>;
    if (current.pid !== record.pid || current.startedAt !== record.startedAt) return false;
    unlinkSync(file);
    return true;
  } catch {
    return false;
  }
}

export type RecordLookup =
  | { readonly kind: 'none'; readonly file: string }
  | { readonly kind: 'live'; readonly file: string; readonly record: RuntimeRecord }
  /** The runtime it describes is gone (pid dead, or nothing listens on its front door). */
  | { readonly kind: 'stale'; readonly file: string; readonly record: RuntimeRecord; readonly reason: string }
  | { readonly kind: 'unreadable'; readonly file: string; readonly reason: string };

/** What the record at the CLI's place says, and whether the runtime it describes still runs. */
export async function findRuntimeRecord(env: Env, probeTimeoutMs = 1_000): Promise<RecordLookup> {
  const file = runtimeRecordPath(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none', file };
    return { kind: 'unreadable', file, reason: (error as Error).message };
  }
  const record = parseRecord(text);
  if (typeof record === 'string') return { kind: 'unreadable', file, reason: record };
  if (!isRunning(record.pid))
    return {
      kind: 'stale',
      file,
      record,
      reason: `the process that wrote it (pid ${record.pid}, started ${record.startedAt}) is no longer running`,
    };
  const refused = await connectionProblem(record.host, record.ports.callout, probeTimeoutMs);
  if (refused !== undefined)
    return {
      kind: 'stale',
      file,
      record,
      reason: `nothing answers on its front door ${record.host}:${record.ports.callout} (${refused})`,
    };
  return { kind: 'live', file, record };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: a process of another user has the pid, so it runs (and is not ours: the front door check tells).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function connectionProblem(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (problem: string | undefined) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    socket.once('connect', () => done(undefined));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}

const LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/**
 * The record, or what is wrong with it. Its values go into URLs the CLI sends credentials to, so the host must be
 * loopback and every port a port: a record that says otherwise is refused, not followed.
 */
export function parseRecord(text: string): RuntimeRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null) return 'not a JSON object';
  const record = value as RuntimeRecord;
  if (record.version !== RECORD_VERSION)
    return `version ${String(record.version)}, expected ${RECORD_VERSION} (written by another version of npm start)`;
  if (!Number.isInteger(record.pid) || record.pid <= 0) return 'no pid';
  if (typeof record.host !== 'string' || !LOOPBACK.test(record.host))
    return `host ${String(record.host)} is not on this machine (127.0.0.0/8)`;
  const ports = record.ports ?? {};
  for (const [name, port] of Object.entries(ports)) {
    if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65_535))
      return `port ${name} is ${String(port)}`;
  }
  if (ports.callout === undefined || ports.sqs === undefined || ports.dynamoDb === undefined) return 'ports missing';
  if (typeof record.calloutAuth !== 'object' || record.calloutAuth === null) return 'no callout authentication';
  if (
    typeof record.zuoraBaseUrl !== 'string' ||
    typeof record.queues?.main !== 'string' ||
    typeof record.queues?.deadLetter !== 'string'
  )
    return 'queues or Zuora URL missing';
  return record;
}

/** The non-secret CALLOUT_* settings a CLI needs to sign as the runtime checks (keys and values the user chose stay out). */
const NON_SECRET_CALLOUT_VARIABLES = [
  'CALLOUT_USERNAME',
  'CALLOUT_HEADER_NAME',
  'CALLOUT_HMAC_HEADER',
  'CALLOUT_HMAC_ALGORITHM',
  'CALLOUT_HMAC_PREFIX',
  'CALLOUT_HMAC_SIGNED_DATA',
];

/** What the CLI needs of a started runtime (type-only imports: nothing of the runtime is loaded by the CLI). */
export function recordOf(runtime: Runtime, pid: number, startedAt: Date): RuntimeRecord {
  const { config } = runtime;
  const portOf = (url: string) => Number(new URL(url).port);
  const calloutAuth: Record<string, string> = { CALLOUT_AUTH_MODE: config.callout.mode };
  for (const name of NON_SECRET_CALLOUT_VARIABLES) {
    const value = config.handlerEnv[name];
    if (value !== undefined && value !== '') calloutAuth[name] = value;
  }
  if (config.callout.mode === 'basic') {
    calloutAuth.CALLOUT_USERNAME = config.callout.username;
    if (config.callout.generated) calloutAuth.CALLOUT_PASSWORD = config.callout.password;
  }
  return {
    version: RECORD_VERSION,
    pid,
    startedAt: startedAt.toISOString(),
    host: config.host,
    ports: {
      callout: portOf(runtime.calloutUrl),
      sqs: portOf(runtime.sqsEndpoint),
      dynamoDb: portOf(runtime.dynamoDbEndpoint),
      ...(runtime.limioSandbox && { limioSandbox: portOf(runtime.limioSandbox.baseUrl) }),
      ...(runtime.zuoraSandbox && { zuoraSandbox: portOf(runtime.zuoraSandbox.baseUrl) }),
    },
    calloutUrl: runtime.calloutUrl,
    queues: {
      main: runtime.queues.mainQueueUrl,
      deadLetter: runtime.queues.deadLetterQueueUrl,
      ...(runtime.accountQueueUrl !== undefined && { account: runtime.accountQueueUrl }),
    },
    zuoraBaseUrl: runtime.zuoraBaseUrl,
    limioBaseUrl: runtime.limioBaseUrl,
    apiKind: config.apiKind,
    calloutAuth,
  };
}
