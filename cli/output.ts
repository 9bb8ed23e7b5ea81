/** What the CLI writes to: the real process streams, or captured ones in tests. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  readonly stdin: NodeJS.ReadableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * Characters that steer a terminal or change what it shows rather than being shown: C0 controls (ESC starts
 * the sequences that set a title or colour text), DEL, C1 controls (U+009B is a one-character CSI), the line and
 * paragraph separators, and the bidirectional marks, embeddings, overrides and isolates that reorder a line.
 */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The same, less the line feed: what the writer lets through, for the lines the CLI itself ends. */
const CONTROLS_BUT_LINE_FEED =
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

// \uXXXX rather than \x1b: the one form that is also a JSON escape, so the writer's filter keeps --json valid
// and parsing back to the very text that was received.
const escapeControl = (character: string) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * Text the CLI did not write itself (from Limio, Zuora, SQS, DynamoDB, a server's answer) made safe to print
 * inside a line: every control character, line breaks too, shown as a \uXXXX escape instead of acting.
 */
export function printable(text: string): string {
  return text.replace(CONTROLS, escapeControl);
}

/** The guard on every write: the CLI's own line feeds stay; nothing else can steer the terminal. */
function printableOutput(text: string): string {
  return text.replace(CONTROLS_BUT_LINE_FEED, escapeControl);
}

/** The stream under a guarded one, for the progress lines' own carriage returns and line erases. */
const UNGUARDED = Symbol('unguarded stream');
type OutputStream = CliIo['stderr'] & { [UNGUARDED]?: CliIo['stderr'] };

/**
 * The io a command is given: every write to stdout and stderr goes through printableOutput, so no command,
 * present or future, can pass a terminal escape from data through, in text or in JSON. (A line break inside
 * data is still the command's to escape, with printable: the writer cannot tell it from the CLI's own.)
 */
export function guardedIo(io: CliIo): CliIo {
  const guard = (stream: CliIo['stderr']): OutputStream => ({
    write: (text: string) => stream.write(printableOutput(text)),
    get isTTY() {
      return stream.isTTY;
    },
    get columns() {
      return stream.columns;
    },
    [UNGUARDED]: stream,
  });
  return { stdout: guard(io.stdout), stderr: guard(io.stderr), stdin: io.stdin, env: io.env };
}

/** Writes the CLI's own cursor movements on stderr past the guard; the text among them is made printable. */
function drawOnTerminal(io: CliIo, text: string): void {
  const stderr = io.stderr as OutputStream;
  (stderr[UNGUARDED] ?? stderr).write(`\r${printable(text)}\x1b[K`);
}

/** Clears the line a progress bar or status line is drawn on, so a message can take its place (terminals only). */
export function eraseStatusLine(io: CliIo): void {
  if (io.stderr.isTTY) drawOnTerminal(io, '');
}

export type Cell = string | number | undefined | null;

/** A plain-text table: columns as wide as their widest cell, nothing wrapped, empty cells shown as "-". */
export function renderTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((row) => headers.map((_, column) => cellText(row[column])));
  const widths = headers.map((header, column) => Math.max(header.length, ...text.map((row) => row[column].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column])))
      .join('  ')
      .trimEnd();
  return [line(headers.map((header) => header.toUpperCase())), ...text.map(line)].join('\n') + '\n';
}

function cellText(cell: Cell): string {
  if (cell === undefined || cell === null || cell === '') return '-';
  // Escaped before the widths are measured, so an escape in a cell does not push its row out of line.
  return printable(String(cell).replace(/\s+/g, ' '));
}

export function clip(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

/**
 * How a table cuts its long cells: to `length` on a terminal, where a row must fit the screen; whole with --wide,
 * or when stdout is a pipe or a file, where what follows (grep, jq, a ticket) needs the whole error.
 */
export function cellClip(io: CliIo, values: { readonly wide?: unknown }): (text: string, length: number) => string {
  return io.stdout.isTTY === true && values.wide !== true ? clip : (text) => text;
}

export interface Progress {
  /** `done` of `total` (total may be unknown while a queue is still being read). */
  update(done: number, total?: number): void;
  finish(): void;
}

/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal: scripts reading stdout (or a log
 * capturing stderr) never see carriage-return noise.
 */
export function progressBar(io: CliIo, label: string): Progress {
  if (!io.stderr.isTTY) return { update() {}, finish() {} };
  let drawn = false;
  let lastDrawnAt = 0;
  return {
    update(done, total) {
      const now = Date.now();
      if (drawn && now - lastDrawnAt < 100 && done !== total) return;
      lastDrawnAt = now;
      drawn = true;
      const width = 30;
      const bar =
        total && total > 0
          ? `[${'#'.repeat(Math.round((Math.min(done, total) / total) * width)).padEnd(width, '.')}] ${done}/${total}`
          : `${done}`;
      drawOnTerminal(io, `${label} ${bar}`);
    },
    finish() {
      // Once: a later finish (or one of a bar never drawn) writes nothing.
      if (drawn) io.stderr.write('\n');
      drawn = false;
    },
  };
}

export interface StatusLine {
  update(text: string): void;
  finish(): void;
}

/**
 * One line of free text on stderr, redrawn in place, only when stderr is a terminal (like progressBar), for long
 * runs whose total is not known up front. At most ten redraws a second; finish() draws the last text first.
 */
export function statusLine(io: CliIo, label: string): StatusLine {
  if (!io.stderr.isTTY) return { update() {}, finish() {} };
  let drawnAt = 0;
  let drawn = '';
  let latest = '';
  const draw = () => {
    drawn = latest;
    drawnAt = Date.now();
    drawOnTerminal(io, `${label} ${latest}`);
  };
  return {
    update(text) {
      latest = text;
      if (Date.now() - drawnAt >= 100) draw();
    },
    finish() {
      if (latest === '') return;
      if (drawn !== latest) draw();
      io.stderr.write('\n');
      latest = '';
      drawn = '';
    },
  };
}
