import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { cdkLogicalId, keepParentLogicalIds } from '../../../infra/constructs/logical-ids';

/** constructs/logical-ids.ts: a part of the bridge leaves its own id out of the logical ids of what it holds. */

class Part extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    keepParentLogicalIds(this);
  }
}

const resource = (scope: Construct, id: string) =>
  new CfnResource(scope, id, { type: 'Test::Thing', properties: { Name: id } });

describe('cdkLogicalId', () => {
  it('is the logical id CDK gives a resource at that path', () => {
    const stack = new Stack(new App(), 'Ids');
    const paths = [
      ['Lone'],
      ['Bridge', 'MainQueue', 'Resource'],
      ['Bridge', 'Default', 'Thing'],
      ['Bridge', 'Bridge-Table', 'Resource'],
      ['Bridge', 'BridgeTable', 'Table'],
      ['Very'.repeat(70), 'Long'.repeat(10)],
    ];
    for (const path of paths) {
      let scope: Construct = stack;
      for (const id of path.slice(0, -1))
        scope = (scope.node.tryFindChild(id) as Construct | undefined) ?? new Construct(scope, id);
      const element = resource(scope, path[path.length - 1]);
      expect({ path, id: cdkLogicalId(path) }).toEqual({ path, id: stack.getLogicalId(element) });
    }
  });
});

describe('keepParentLogicalIds', () => {
  it("gives what a part holds, however deep, the logical id it would have as its parent's own child", () => {
    const stack = new Stack(new App(), 'Kept');
    const bridge = new Construct(stack, 'Bridge');
    const inPart = resource(new Part(bridge, 'Queues'), 'MainQueue');
    const inNestedPart = resource(
      new Construct(new Part(new Part(bridge, 'FrontDoor'), 'Waf'), 'CalloutWebAcl'),
      'Resource',
    );
    const elsewhere = resource(new Construct(bridge, 'Plain'), 'Thing');
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Properties: { Name: string } }>;
    expect(Object.fromEntries(Object.entries(resources).map(([id, r]) => [r.Properties.Name, id]))).toEqual({
      MainQueue: cdkLogicalId(['Bridge', 'MainQueue']),
      Resource: cdkLogicalId(['Bridge', 'CalloutWebAcl', 'Resource']),
      Thing: cdkLogicalId(['Bridge', 'Plain', 'Thing']),
    });
    // References follow the kept id.
    expect(stack.resolve(inPart.ref)).toEqual({ Ref: cdkLogicalId(['Bridge', 'MainQueue']) });
    expect(stack.getLogicalId(inNestedPart)).toBe(cdkLogicalId(['Bridge', 'CalloutWebAcl', 'Resource']));
    expect(stack.getLogicalId(elsewhere)).toBe(cdkLogicalId(['Bridge', 'Plain', 'Thing']));
  });

  it('refuses two parts holding resources that would share one logical id', () => {
    const stack = new Stack(new App(), 'Clash');
    resource(new Part(stack, 'One'), 'Thing');
    resource(new Part(stack, 'Two'), 'Thing');
    expect(() => Template.fromStack(stack)).toThrow(/same Logical ID/);
  });
});
