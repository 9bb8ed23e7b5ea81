import { ACCOUNT_IDS_PER_QUERY, isZuoraObjectId, parseZuoraDateTime } from './window';

/**
 * Account and contact changes, which change no Subscription (a new email or address moves no
 * Subscription.UpdatedDate), turned into the subscriptions they concern: each changed account's change time is
 * the latest UpdatedDate of the account or its contacts in the slice, and each of its subscriptions is judged by
 * that time (coverage.ts, classifyAccountChange). Plain data: the sweep reads, this module only collects.
 */
export class ChangedAccounts {
  /** AccountId -> its latest change in the slice; undefined when an UpdatedDate could not be read (then queued). */
  readonly changeMsById = new Map<string, number | undefined>();
  /** Ids that are not 32-hex Zuora ids: never put in a query, counted as invalid. */
  readonly invalidIds = new Set<string>();
  /** Records without an account id at all. */
  withoutId = 0;

  /** Account records `{Id, UpdatedDate}`. */
  addAccounts(records: Iterable<unknown>): this {
    return this.add(records, 'Id');
  }

  /** Contact records `{AccountId, UpdatedDate}`. */
  addContacts(records: Iterable<unknown>): this {
    return this.add(records, 'AccountId');
  }

  /** The ids to resolve to subscriptions, in groups a query can carry. */
  lookupGroups(): string[][] {
    return groupsOf([...this.changeMsById.keys()], ACCOUNT_IDS_PER_QUERY);
  }

  private add(records: Iterable<unknown>, idField: 'Id' | 'AccountId'): this {
    for (const record of records) {
      const fields = typeof record === 'object' && record !== null ? (record as Record<string, unknown>) : {};
      const id = fields[idField];
      if (typeof id !== 'string' || id.trim() === '') {
        this.withoutId += 1;
        continue;
      }
      if (!isZuoraObjectId(id)) {
        this.invalidIds.add(id);
        continue;
      }
      const updatedMs = parseZuoraDateTime(fields.UpdatedDate);
      if (!this.changeMsById.has(id)) {
        this.changeMsById.set(id, updatedMs);
        continue;
      }
      const known = this.changeMsById.get(id);
      this.changeMsById.set(
        id,
        known === undefined || updatedMs === undefined ? undefined : Math.max(known, updatedMs),
      );
    }
    return this;
  }
}

/**
 * The changed accounts' subscriptions, de-duplicated by Name (the lookup returns every version), each with its
 * account's change time. A subscription whose versions name two changed accounts (moved between them) takes
 * the later change.
 */
export class AccountSubscriptions {
  readonly changeMsByName = new Map<string, number | undefined>();
  /** Records without a usable Name. */
  withoutName = 0;

  constructor(readonly changedAccounts: ChangedAccounts) {}

  add(records: Iterable<unknown>): this {
    for (const record of records) {
      const fields = typeof record === 'object' && record !== null ? (record as Record<string, unknown>) : {};
      const name = typeof fields.Name === 'string' ? fields.Name.trim() : '';
      const accountId = fields.AccountId;
      if (name === '') {
        this.withoutName += 1;
        continue;
      }
      // Only the accounts asked about can be in the answer; anything else says nothing of a change.
      if (typeof accountId !== 'string' || !this.changedAccounts.changeMsById.has(accountId)) continue;
      const changeMs = this.changedAccounts.changeMsById.get(accountId);
      if (!this.changeMsByName.has(name)) {
        this.changeMsByName.set(name, changeMs);
        continue;
      }
      const known = this.changeMsByName.get(name);
      this.changeMsByName.set(
        name,
        known === undefined || changeMs === undefined ? undefined : Math.max(known, changeMs),
      );
    }
    return this;
  }
}

export function groupsOf<T>(items: readonly T[], size: number): T[][] {
  if (!(Number.isInteger(size) && size >= 1))
    throw new RangeError(`group size must be a whole number >= 1, got ${size}`);
  const groups: T[][] = [];
  for (let start = 0; start < items.length; start += size) groups.push(items.slice(start, start + size));
  return groups;
}
