import { createHash } from 'node:crypto';
import { Aspects, CfnElement, Stack, type IAspect } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * The bridge began as one construct holding every resource; it is now composed of parts (front door, queues,
 * sync worker, ...), each a construct of its own. CloudFormation knows a resource by its logical id, which CDK
 * derives from the construct path: moving a resource into a part would change it, and the next deployment would
 * replace the resource. For the queues, tables and secrets that loses their data; for the API it changes the URL
 * Zuora calls; for the alarms and the web ACL (fixed names) the deployment fails. So a part leaves its own id out
 * of the logical ids of what it holds: every resource keeps the id it had before the split, and a bridge deployed
 * before it updates in place.
 */
const transparentParts = new WeakSet<IConstruct>();
/** Renames registered per stack (Stack.renameLogicalId refuses a second one for the same id). */
const renamed = new WeakMap<Stack, Set<string>>();

/** Marks `part` as left out of logical ids; call first thing in the part's constructor. */
export function keepParentLogicalIds(part: IConstruct): void {
  transparentParts.add(part);
  Aspects.of(part).add(new KeepParentLogicalIds());
}

/**
 * For a resource some construct names after its own logical id while it is being built (API Gateway's
 * deployment), before the aspect below runs: registers the rename of the element that will be at `part`/`ids`.
 */
export function keepParentLogicalIdAhead(part: IConstruct, ...ids: string[]): void {
  const stack = Stack.of(part);
  const scopes = part.node.scopes.slice(part.node.scopes.indexOf(stack) + 1);
  const components = [
    ...scopes.map((scope) => ({ id: scope.node.id, transparent: transparentParts.has(scope) })),
    ...ids.map((id) => ({ id, transparent: false })),
  ];
  rename(stack, components);
}

class KeepParentLogicalIds implements IAspect {
  visit(node: IConstruct): void {
    if (!CfnElement.isCfnElement(node)) return;
    const stack = node.stack;
    const scopes = node.node.scopes.slice(node.node.scopes.indexOf(stack) + 1);
    rename(
      stack,
      scopes.map((scope) => ({ id: scope.node.id, transparent: transparentParts.has(scope) })),
    );
  }
}

function rename(stack: Stack, components: readonly { id: string; transparent: boolean }[]): void {
  const current = cdkLogicalId(components.map((component) => component.id));
  const kept = cdkLogicalId(components.filter((component) => !component.transparent).map((component) => component.id));
  const done = renamed.get(stack) ?? new Set<string>();
  renamed.set(stack, done);
  if (current === kept || done.has(current)) return;
  // Stack-wide, so CDK still refuses two resources ending up with one logical id.
  stack.renameLogicalId(current, kept);
  done.add(current);
}

/**
 * CDK's logical id of a construct path below its stack (aws-cdk-lib core/lib/private/uniqueid.ts, not exported):
 * the path's ids without "Default", a human part without "Resource" and repeated ids, and an 8-character hash of
 * the path. CDK keeps it stable across versions (a change would replace every user's resources); a test checks
 * it against Stack.getLogicalId.
 */
export function cdkLogicalId(path: readonly string[]): string {
  const components = path.filter((id) => id !== 'Default');
  if (components.length === 0) throw new Error('a logical id needs at least one path component');
  const alphanumeric = (id: string) => id.replace(/[^A-Za-z0-9]/g, '');
  if (components.length === 1 && alphanumeric(components[0]).length <= 255) return alphanumeric(components[0]);
  const hash = createHash('md5').update(components.join('/')).digest('hex').slice(0, 8).toUpperCase();
  const human: string[] = [];
  for (const id of components) if (human.length === 0 || !human[human.length - 1].endsWith(id)) human.push(id);
  return (
    human
      .filter((id) => id !== 'Resource')
      .map(alphanumeric)
      .join('')
      .slice(0, 240) + hash
  );
}
