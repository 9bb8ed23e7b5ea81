/**
 * Names a value read from an untrusted body in a refusal: its type and a clipped text of it. Never the value
 * stringified: JSON.stringify of a value nested a few thousand deep throws (stack overflow), and of a long one makes
 * a reason as long as the body.
 */

/** Characters of a value's text shown in a refusal. */
export const VALUE_PREVIEW_LENGTH = 40;

/** `2 (number)`, `"email" (string)`, `"xxxx… (string, 250,000 characters)`, `[[[[… (array)`, `(missing)`. */
export function describeUntrusted(value: unknown): string {
  if (value === undefined) return '(missing)';
  if (value === null) return 'null';
  const type = Array.isArray(value) ? 'array' : typeof value;
  const preview = clippedText(value);
  if (typeof value === 'string' && value.length > VALUE_PREVIEW_LENGTH)
    return `${preview} (string, ${value.length.toLocaleString('en-US')} characters)`;
  return `${preview} (${type})`;
}

function clippedText(value: unknown): string {
  // One character more than is shown: a text that fills it was cut.
  const text = boundedText(value, VALUE_PREVIEW_LENGTH + 1);
  return text.length > VALUE_PREVIEW_LENGTH ? `${text.slice(0, VALUE_PREVIEW_LENGTH)}…` : text;
}

/**
 * The value's JSON text, stopped once it reaches `room` characters. Each level of nesting writes at least one
 * character, so the recursion goes at most `room` deep however deep the value is.
 */
function boundedText(value: unknown, room: number): string {
  if (room <= 0) return '';
  if (typeof value === 'string') return JSON.stringify(value.slice(0, room));
  if (value === null || typeof value !== 'object') return String(value);
  const array = Array.isArray(value);
  let text = array ? '[' : '{';
  const items: Iterable<unknown> = array ? value : Object.keys(value);
  let first = true;
  for (const item of items) {
    if (text.length >= room) return text;
    if (!first) text += ',';
    first = false;
    if (array) {
      text += boundedText(item, room - text.length);
    } else {
      const key = item as string;
      text += `${JSON.stringify(key.slice(0, room))}:`;
      text += boundedText((value as Record<string, unknown>)[key], room - text.length);
    }
  }
  return `${text}${array ? ']' : '}'}`;
}
