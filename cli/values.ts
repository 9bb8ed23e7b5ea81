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
  if (!(rate > 0) || rate > 3000) throw new UsageError(flag, `expected messages per second between 0 and 3000, such as 10 or 10/s, got "${raw}"`);
  return rate;
}

export function parsePositiveInteger(flag: string, raw: string, max = 1_000_000): number {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1 || Number(raw) > max) {
    throw new UsageError(flag, `expected a whole number from 1 to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

export function parseHttpStatus(flag: string, raw: string): number {
  if (!/^[1-5]\d\d$/.test(raw.trim())) throw new UsageError(flag, `expected an HTTP status such as 404 or 502, got "${raw}"`);
  return Number(raw);
}

/** Repeatable flags also accept comma-separated lists: --status 404,410 == --status 404 --status 410. */
export function splitList(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value !== '');
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
