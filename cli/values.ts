import { UsageError } from './usage-error';

/** Parsers for flag values; each names the flag it was given for when the value is wrong. */

const DURATION_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "30m", "2h", "1d" -> milliseconds. */
export function parseDuration(flag: string, raw: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([smhd])$/.exec(raw.trim());
  if (!match) throw new UsageError(flag, `expected a duration such as 90s, 30m, 2h or 1d, got "${raw}"`);
  const milliseconds = Number(match[1]) * DURATION_UNITS[match[2]];
  if (!(milliseconds > 0)) throw new UsageError(flag, `must be longer than zero, got "${raw}"`);
  return milliseconds;
}

/** "5", "5/s", "0.5/s" -> messages per second. */
export function parseRate(flag: string, raw: string): number {
  const match = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(raw.trim());
  const rate = match ? Number(match[1]) : NaN;
  if (!(rate > 0) || rate > 3000)
    throw new UsageError(flag, `expected messages per second between 0 and 3000, such as 10 or 10/s, got "${raw}"`);
  return rate;
}

export function parsePositiveInteger(flag: string, raw: string, max = 1_000_000): number {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1 || Number(raw) > max) {
    throw new UsageError(flag, `expected a whole number from 1 to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

export function parseHttpStatus(flag: string, raw: string): number {
  if (!/^[1-5]\d\d$/.test(raw.trim()))
    throw new UsageError(flag, `expected an HTTP status such as 404 or 502, got "${raw}"`);
  return Number(raw);
}

/** Repeatable flags also accept comma-separated lists: --status 404,410 == --status 404 --status 410. */
export function splitList(values: readonly string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '');
}

/** 3723000 -> "1h2m"; for ages in tables. */
export function formatDuration(milliseconds: number): string {
  const seconds = Math.max(0, Math.floor(milliseconds / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${seconds % 60 ? `${seconds % 60}s` : ''}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h${minutes % 60 ? `${minutes % 60}m` : ''}`;
  return `${Math.floor(hours / 24)}d${hours % 24 ? `${hours % 24}h` : ''}`;
}

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([zZ])|([+-])(\d{2}):?(\d{2}))?$/;

/**
 * An ISO-8601 date and time with its offset or Z -> ms since the epoch. A time without an offset is refused, not
 * read in this machine's zone: Zuora's tenant, the operator's laptop and the Lambda may all be in different zones,
 * and an hour off silently misses (or re-syncs) an hour of changes.
 */
function parseInstant(flag: string, raw: string): number {
  const text = raw.trim();
  const match = INSTANT.exec(text);
  if (!match) {
    const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
    throw new UsageError(
      flag,
      `expected an ISO-8601 time with its offset, such as 2026-11-24T18:00:00Z or 2026-11-24T10:00:00-08:00, got "${raw}"${dateOnly ? ' (add a time and an offset: T00:00:00Z)' : ''}`,
    );
  }
  const [, year, month, day, hour, minute, second = '0', fraction, zulu, sign, offsetHours, offsetMinutes] = match;
  if (zulu === undefined && sign === undefined) {
    throw new UsageError(
      flag,
      `"${raw}" has no offset, so it could be in any time zone: add Z for UTC or an offset such as -08:00 (Zuora's tenant zone may differ from this machine's)`,
    );
  }
  const fields = {
    y: Number(year),
    mo: Number(month),
    d: Number(day),
    h: Number(hour),
    mi: Number(minute),
    s: Number(second),
  };
  const utc = Date.UTC(
    fields.y,
    fields.mo - 1,
    fields.d,
    fields.h,
    fields.mi,
    fields.s,
    fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0')),
  );
  const back = new Date(Date.UTC(fields.y, fields.mo - 1, fields.d, fields.h, fields.mi, fields.s));
  const offsetMs =
    sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000;
  if (
    back.getUTCFullYear() !== fields.y ||
    back.getUTCMonth() !== fields.mo - 1 ||
    back.getUTCDate() !== fields.d ||
    back.getUTCHours() !== fields.h ||
    back.getUTCMinutes() !== fields.mi ||
    back.getUTCSeconds() !== fields.s ||
    Number(offsetHours ?? 0) > 14 ||
    Number(offsetMinutes ?? 0) > 59
  ) {
    throw new UsageError(flag, `"${raw}" is not a real date and time`);
  }
  return utc - offsetMs;
}

/**
 * --since/--until: an ISO-8601 time with its offset (parseInstant), or an age before `now` written as --older-than
 * takes it (parseDuration: "90m", "6h", "2d"), so `sweep --since 2d` reads the last two days.
 */
export function parseTimeOrAge(flag: string, raw: string, now: number): number {
  if (/^\d+(?:\.\d+)?\s*[smhd]$/.test(raw.trim())) return now - parseDuration(flag, raw);
  try {
    return parseInstant(flag, raw);
  } catch (error) {
    if (!(error instanceof UsageError) || !/^\s*[\d.]+\s*[a-z]+\s*$/i.test(raw)) throw error;
    throw new UsageError(
      flag,
      `expected an ISO-8601 time with its offset or an age such as 90m, 6h or 2d, got "${raw}"`,
    );
  }
}
