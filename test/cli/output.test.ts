import { guardedIo, printable, progressBar, renderTable, statusLine } from '../../cli/output';
import { captureIo } from './queues';

// Every control character the issue names: title-setting OSC, a colour CSI, a C1 CSI, DEL, a right-to-left
// override, a line separator, and line breaks of its own.
const HOSTILE = 'A\x1b]0;pwned\x07B\x1b[32m OK\r\n\u009b2J\x7f\u202eC\u2028D\u061c\u200e\u2066';
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('the output filter', () => {
  it('printable escapes every control, line breaks too, as \\uXXXX', () => {
    expect(printable(HOSTILE)).toBe(
      'A\\u001b]0;pwned\\u0007B\\u001b[32m OK\\u000d\\u000a\\u009b2J\\u007f\\u202eC\\u2028D\\u061c\\u200e\\u2066',
    );
    expect(printable('A-S00000271 ✓ naïve')).toBe('A-S00000271 ✓ naïve');
  });

  it("the guarded writer keeps the CLI's own line feeds and escapes the rest, on stdout and stderr", () => {
    const captured = captureIo({}, '', true);
    const io = guardedIo(captured.io);
    io.stdout.write(`line: ${HOSTILE}\n`);
    io.stderr.write(`error: ${HOSTILE}\n`);
    expect(captured.stdout()).not.toMatch(RAW);
    expect(captured.stdout()).toBe(`line: ${printable(HOSTILE).replace('\\u000a', '\n')}\n`);
    expect(captured.stderr()).not.toMatch(RAW);
    expect(io.stderr.isTTY).toBe(true);
  });

  it('JSON through the guarded writer stays valid and parses back to the text received', () => {
    const captured = captureIo();
    guardedIo(captured.io).stdout.write(`${JSON.stringify({ error: HOSTILE }, null, 2)}\n`);
    expect(captured.stdout()).not.toMatch(RAW);
    expect(JSON.parse(captured.stdout())).toEqual({ error: HOSTILE });
  });

  it('a table escapes its cells before measuring them, so its columns stay in line', () => {
    const lines = renderTable(
      ['error', 'status'],
      [
        ['\u009b\u202e', 400],
        ['plain', 404],
      ],
    ).split('\n');
    expect(lines[1]).toBe('\\u009b\\u202e  400');
    expect(lines[2].indexOf('404')).toBe(lines[1].indexOf('400'));
  });

  it('progress lines still move the cursor on a terminal, past the guard, with their text escaped', () => {
    const captured = captureIo({}, '', true);
    const io = guardedIo(captured.io);
    const bar = progressBar(io, 'reading\x1b[31m');
    bar.update(1, 2);
    bar.finish();
    const status = statusLine(io, 'sweep');
    status.update(`slice 1 \u009b2J`);
    status.finish();
    expect(captured.stderr()).toBe(
      `\rreading\\u001b[31m [${'#'.repeat(15)}${'.'.repeat(15)}] 1/2\x1b[K\n` + `\rsweep slice 1 \\u009b2J\x1b[K\n`,
    );
  });
});
