/**
 * The ZOQL subset the Zuora sandbox understands, as Zuora would judge it (../shared/zuora-api.md):
 * `select <fields> from Subscription where UpdatedDate <op> '<datetime>' [and ...]`, and the datetimes Zuora
 * reads and writes in the tenant's time zone.
 */

/** One version of a subscription: Zuora makes a new record (new Id, same Name) for each amendment or order. */
export interface SubscriptionVersion {
  readonly id: string;
  readonly name: string;
  /** Whole seconds, ms since the epoch, like Zuora's UpdatedDate. */
  readonly updatedMs: number;
}

export interface ZoqlQuery {
  readonly fields: readonly string[];
  matches(updatedMs: number): boolean;
  project(version: SubscriptionVersion, tenantOffsetMinutes: number): Record<string, string>;
}

export type ParsedZoql = { ok: true; query: ZoqlQuery } | { ok: false; reason: string };

const FIELDS: Record<string, string> = { id: 'Id', name: 'Name', updateddate: 'UpdatedDate' };
const COMPARISONS: Record<string, (left: number, right: number) => boolean> = {
  '>=': (l, r) => l >= r,
  '>': (l, r) => l > r,
  '<=': (l, r) => l <= r,
  '<': (l, r) => l < r,
  '=': (l, r) => l === r,
  '!=': (l, r) => l !== r,
};

/**
 * Parses the one query form the sweep sends, the way Zuora would judge it: keywords in lower case only (an
 * upper-case SELECT is malformed), field and object names in any case, datetimes with an offset or, without
 * one, read in the tenant's time zone. Anything beyond the subset is refused rather than half-understood.
 */
export function parseZoql(queryString: string, tenantOffsetMinutes = -480): ParsedZoql {
  const tokens = tokenize(queryString);
  if (!tokens.ok) return tokens;
  const list = tokens.tokens;
  let position = 0;
  const peek = () => list[position];
  const keyword = (word: string): string | undefined => {
    const token = peek();
    if (token === undefined || token.toLowerCase() !== word) return `expected "${word}" at token ${position + 1}`;
    if (token !== word) return `keyword "${token}" must be lower case`;
    position += 1;
    return undefined;
  };

  const problem = keyword('select');
  if (problem) return { ok: false, reason: problem };
  const fields: string[] = [];
  for (;;) {
    const token = peek();
    const field = token === undefined ? undefined : FIELDS[token.toLowerCase()];
    if (field === undefined) return { ok: false, reason: `invalid field for query: Subscription.${token ?? ''}` };
    fields.push(field);
    position += 1;
    if (peek() !== ',') break;
    position += 1;
  }
  const fromProblem = keyword('from');
  if (fromProblem) return { ok: false, reason: fromProblem };
  if (peek()?.toLowerCase() !== 'subscription') return { ok: false, reason: `this sandbox knows only the Subscription object, got "${peek() ?? ''}"` };
  position += 1;

  const conditions: ((updatedMs: number) => boolean)[] = [];
  if (peek() !== undefined) {
    const whereProblem = keyword('where');
    if (whereProblem) return { ok: false, reason: whereProblem };
    for (;;) {
      const field = peek();
      if (field?.toLowerCase() !== 'updateddate') return { ok: false, reason: `this sandbox filters on UpdatedDate only, got "${field ?? ''}"` };
      position += 1;
      const operator = peek();
      const compare = operator === undefined ? undefined : COMPARISONS[operator];
      if (compare === undefined) return { ok: false, reason: `expected a comparison after UpdatedDate, got "${operator ?? ''}"` };
      position += 1;
      const literal = peek();
      if (literal === undefined || !literal.startsWith("'")) return { ok: false, reason: 'expected a quoted datetime' };
      const valueMs = parseZoqlDateTime(literal.slice(1, -1), tenantOffsetMinutes);
      if (valueMs === undefined) return { ok: false, reason: `invalid datetime ${literal}` };
      position += 1;
      conditions.push((updatedMs) => compare(updatedMs, valueMs));
      if (peek() === undefined) break;
      if (peek()?.toLowerCase() === 'or') return { ok: false, reason: 'this sandbox supports "and" only' };
      const andProblem = keyword('and');
      if (andProblem) return { ok: false, reason: andProblem };
    }
  }
  if (position !== list.length) return { ok: false, reason: `unexpected "${list[position]}"` };
  return {
    ok: true,
    query: {
      fields,
      matches: (updatedMs) => conditions.every((condition) => condition(updatedMs)),
      project: (version, offsetMinutes) => {
        const values: Record<string, string> = { Id: version.id, Name: version.name, UpdatedDate: tenantDateTime(version.updatedMs, offsetMinutes) };
        return Object.fromEntries(fields.map((field) => [field, values[field]!]));
      },
    },
  };
}

function tokenize(text: string): { ok: true; tokens: string[] } | { ok: false; reason: string } {
  const tokens: string[] = [];
  const pattern = /\s*(?:([A-Za-z_][A-Za-z0-9_]*)|(,)|(>=|<=|!=|=|<|>)|('[^']*'))/y;
  const trimmed = text.trim();
  while (pattern.lastIndex < trimmed.length) {
    const at = pattern.lastIndex;
    const match = pattern.exec(trimmed);
    if (match === null) return { ok: false, reason: `unexpected text at character ${at + 1}: "${trimmed.slice(at, at + 20).trim()}"` };
    tokens.push(match[1] ?? match[2] ?? match[3] ?? match[4]!);
  }
  return { ok: true, tokens };
}

const ZOQL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(Z|[+-]\d{2}:\d{2})?$/;

/** A filter value with its own offset, or without one read in the tenant's zone (as Zuora does). */
export function parseZoqlDateTime(value: string, tenantOffsetMinutes: number): number | undefined {
  const match = ZOQL_DATE_TIME.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, fraction, zone] = match;
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number((fraction ?? '0').padEnd(3, '0')));
  if (Number.isNaN(local) || new Date(local).getUTCDate() !== Number(d)) return undefined;
  let offsetMinutes = tenantOffsetMinutes;
  if (zone === 'Z') offsetMinutes = 0;
  else if (zone !== undefined) offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  return local - offsetMinutes * 60 * 1000;
}

/** `2026-11-24T10:03:12.000-08:00`: how Zuora returns datetimes, in the tenant's zone with its offset. */
export function tenantDateTime(ms: number, offsetMinutes: number): string {
  const local = new Date(ms + offsetMinutes * 60 * 1000).toISOString().slice(0, 23);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const absolute = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(absolute / 60)).padStart(2, '0')}:${String(absolute % 60).padStart(2, '0')}`;
}
