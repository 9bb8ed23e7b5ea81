/**
 * The ZOQL subset the Zuora sandbox understands, as Zuora would judge it (../shared/zuora-api.md):
 * `select <fields> from Subscription|Account|Contact where UpdatedDate <op> '<datetime>' [and AccountId = '…' ...]`
 * or `… where AccountId = '…' or AccountId = '…' …` (at most 200 conditions),
 * and the datetimes Zuora reads and writes in the tenant's time zone.
 */

/** One version of a subscription: Zuora makes a new record (new Id, same Name) for each amendment or order. */
export interface SubscriptionVersion {
  readonly id: string;
  readonly name: string;
  /** Whole seconds, ms since the epoch, like Zuora's UpdatedDate. */
  readonly updatedMs: number;
  /** The account the subscription belongs to (32 hex); absent for the sweep's accountless test data. */
  readonly accountId?: string;
}

/** The objects the sandbox can be asked about, and the fields each can select and filter on. */
const ZOQL_OBJECTS = {
  Subscription: ['Id', 'Name', 'UpdatedDate', 'AccountId'],
  Account: ['Id', 'AccountNumber', 'Name', 'UpdatedDate', 'BillToId', 'SoldToId'],
  Contact: [
    'Id',
    'AccountId',
    'UpdatedDate',
    'FirstName',
    'LastName',
    'WorkEmail',
    'Address1',
    'City',
    'PostalCode',
    'Country',
  ],
} as const;
export type ZoqlObject = keyof typeof ZOQL_OBJECTS;

/** One record of any object: its UpdatedDate in ms, and its other fields as text (absent = null in Zuora). */
export interface ZoqlRow {
  readonly updatedMs: number;
  readonly values: Readonly<Record<string, string | undefined>>;
}

export function subscriptionRow(version: SubscriptionVersion): ZoqlRow {
  return { updatedMs: version.updatedMs, values: { Id: version.id, Name: version.name, AccountId: version.accountId } };
}

interface ZoqlQuery {
  readonly object: ZoqlObject;
  readonly fields: readonly string[];
  matches(row: ZoqlRow): boolean;
  /** The selected fields; a null field is left out of the record, as Zuora does. */
  project(row: ZoqlRow, tenantOffsetMinutes: number): Record<string, string>;
}

export type ParsedZoql = { ok: true; query: ZoqlQuery } | { ok: false; reason: string };

/** Zuora refuses a ZOQL query with more conditions than this (../shared/zuora-api.md). */
const ZOQL_MAX_CONDITIONS = 200;

const COMPARISONS: Record<string, (left: number, right: number) => boolean> = {
  '>=': (l, r) => l >= r,
  '>': (l, r) => l > r,
  '<=': (l, r) => l <= r,
  '<': (l, r) => l < r,
  '=': (l, r) => l === r,
  '!=': (l, r) => l !== r,
};

/**
 * Parses the query forms the sweep and the fan-out send, the way Zuora would judge them: keywords in lower case
 * only (an upper-case SELECT is malformed), field and object names in any case, datetimes with an offset or,
 * without one, read in the tenant's time zone; a text field compared with = or != to a quoted value (\' escapes a
 * quote). Anything beyond the subset is refused rather than half-understood.
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
  const selected: string[] = [];
  for (;;) {
    const token = peek();
    if (token === undefined || !/^[A-Za-z_]/.test(token))
      return { ok: false, reason: `invalid field for query: ${token ?? ''}` };
    selected.push(token);
    position += 1;
    if (peek() !== ',') break;
    position += 1;
  }
  const fromProblem = keyword('from');
  if (fromProblem) return { ok: false, reason: fromProblem };
  const objectToken = peek() ?? '';
  const object = (Object.keys(ZOQL_OBJECTS) as ZoqlObject[]).find(
    (name) => name.toLowerCase() === objectToken.toLowerCase(),
  );
  if (object === undefined)
    return {
      ok: false,
      reason: `this sandbox knows only the Subscription, Account and Contact objects, got "${objectToken}"`,
    };
  position += 1;
  const fieldOf = (token: string | undefined) =>
    (ZOQL_OBJECTS[object] as readonly string[]).find((field) => field.toLowerCase() === token?.toLowerCase());
  const fields: string[] = [];
  for (const token of selected) {
    const field = fieldOf(token);
    if (field === undefined) return { ok: false, reason: `invalid field for query: ${object}.${token}` };
    fields.push(field);
  }

  const conditions: ((row: ZoqlRow) => boolean)[] = [];
  let joinedBy: 'and' | 'or' | undefined;
  if (peek() !== undefined) {
    const whereProblem = keyword('where');
    if (whereProblem) return { ok: false, reason: whereProblem };
    for (;;) {
      const field = fieldOf(peek());
      if (field === undefined) return { ok: false, reason: `invalid field in a condition: ${object}.${peek() ?? ''}` };
      position += 1;
      const operator = peek();
      const compare = operator === undefined ? undefined : COMPARISONS[operator];
      if (compare === undefined)
        return { ok: false, reason: `expected a comparison after ${field}, got "${operator ?? ''}"` };
      position += 1;
      const literal = peek();
      if (literal === undefined || !literal.startsWith("'"))
        return { ok: false, reason: `expected a quoted value after ${field} ${operator}` };
      const text = literal.slice(1, -1).replace(/\\(.)/g, '$1');
      position += 1;
      if (field === 'UpdatedDate') {
        const valueMs = parseZoqlDateTime(text, tenantOffsetMinutes);
        if (valueMs === undefined) return { ok: false, reason: `invalid datetime ${literal}` };
        conditions.push((row) => compare(row.updatedMs, valueMs));
      } else {
        if (operator !== '=' && operator !== '!=')
          return { ok: false, reason: `this sandbox compares ${field} with = or != only` };
        conditions.push((row) => (row.values[field] === text) === (operator === '='));
      }
      if (peek() === undefined) break;
      // Zuora binds "and" before "or"; the sweep never mixes them, so the sandbox refuses a mix rather than guess.
      const joiner = peek()?.toLowerCase() === 'or' ? 'or' : 'and';
      if (joinedBy !== undefined && joiner !== joinedBy)
        return { ok: false, reason: 'this sandbox does not mix "and" and "or" in one query' };
      joinedBy = joiner;
      const joinerProblem = keyword(joiner);
      if (joinerProblem) return { ok: false, reason: joinerProblem };
    }
  }
  if (conditions.length > ZOQL_MAX_CONDITIONS) {
    return {
      ok: false,
      reason: `a query may have at most ${ZOQL_MAX_CONDITIONS} conditions in its where clause, got ${conditions.length}`,
    };
  }
  if (position !== list.length) return { ok: false, reason: `unexpected "${list[position]}"` };
  return {
    ok: true,
    query: {
      object,
      fields,
      matches: (row) =>
        joinedBy === 'or'
          ? conditions.some((condition) => condition(row))
          : conditions.every((condition) => condition(row)),
      project: (row, offsetMinutes) => {
        const values: Record<string, string | undefined> = {
          ...row.values,
          UpdatedDate: tenantDateTime(row.updatedMs, offsetMinutes),
        };
        return Object.fromEntries(
          fields.filter((field) => values[field] !== undefined).map((field) => [field, values[field]!]),
        );
      },
    },
  };
}

function tokenize(text: string): { ok: true; tokens: string[] } | { ok: false; reason: string } {
  const tokens: string[] = [];
  const pattern = /\s*(?:([A-Za-z_][A-Za-z0-9_]*)|(,)|(>=|<=|!=|=|<|>)|('(?:[^'\\]|\\.)*'))/y;
  const trimmed = text.trim();
  while (pattern.lastIndex < trimmed.length) {
    const at = pattern.lastIndex;
    const match = pattern.exec(trimmed);
    if (match === null)
      return { ok: false, reason: `unexpected text at character ${at + 1}: "${trimmed.slice(at, at + 20).trim()}"` };
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
  const local = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(s),
    Number((fraction ?? '0').padEnd(3, '0')),
  );
  if (Number.isNaN(local) || new Date(local).getUTCDate() !== Number(d)) return undefined;
  let offsetMinutes = tenantOffsetMinutes;
  if (zone === 'Z') offsetMinutes = 0;
  else if (zone !== undefined)
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  return local - offsetMinutes * 60 * 1000;
}

/** `2026-11-24T10:03:12.000-08:00`: how Zuora returns datetimes, in the tenant's zone with its offset. */
export function tenantDateTime(ms: number, offsetMinutes: number): string {
  const local = new Date(ms + offsetMinutes * 60 * 1000).toISOString().slice(0, 23);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const absolute = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(absolute / 60)).padStart(2, '0')}:${String(absolute % 60).padStart(2, '0')}`;
}
