/** What the CLI writes to: the real process streams, or captured ones in tests. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  readonly stdin: NodeJS.ReadableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
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
  return String(cell).replace(/\s+/g, ' ');
}

export function clip(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
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
      io.stderr.write(`\r${label} ${bar}\x1b[K`);
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
    io.stderr.write(`\r${label} ${latest}\x1b[K`);
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
