import { normaliseEvent } from '../../functions/callout/request';
import { checkTenant, findTenantIds } from '../../functions/callout/tenant';
import { httpApiEvent, restApiEvent, type CalloutShape } from './events';

const request = (shape: CalloutShape) => normaliseEvent(httpApiEvent(shape));
const json = (body: unknown) =>
  request({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('findTenantIds', () => {
  it('finds the tenant id wherever a template can put it', () => {
    expect(findTenantIds(json({ tenantId: 12345, subscriptionNumber: 'A-S1' }))).toEqual(['12345']);
    expect(
      findTenantIds(json({ Data: { Tenant: { Id: '12345' }, Subscription: { Name: 'A-S1', Id: 'not-a-tenant' } } })),
    ).toEqual(['12345']);
    expect(findTenantIds(json({ event: { tenant_id: '12345' } }))).toEqual(['12345']);
    expect(
      findTenantIds(
        request({
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'TenantId=12345&subscriptionNumber=A-S1',
        }),
      ),
    ).toEqual(['12345']);
    expect(findTenantIds(request({ method: 'GET', query: 'tenantId=12345&subscriptionNumber=A-S1' }))).toEqual([
      '12345',
    ]);
    const xml =
      '<callout><parameter name="TenantId">12345</parameter><parameter name="SubscriptionNumber">A-S1</parameter></callout>';
    expect(findTenantIds(request({ headers: { 'content-type': 'application/xml' }, body: xml }))).toEqual(['12345']);
    expect(
      findTenantIds(normaliseEvent(restApiEvent({ headers: { 'Zuora-Tenant-Id': '12345' }, body: '{}' }))),
    ).toEqual(['12345']);
  });

  it('finds none in a callout without one, or with a body it cannot read', () => {
    expect(findTenantIds(json({ subscriptionNumber: 'A-S1', tenantName: 'acme' }))).toEqual([]);
    expect(findTenantIds(request({ headers: { 'content-type': 'application/json' }, body: '{"tenantId": 1' }))).toEqual(
      [],
    );
  });
});

describe('checkTenant', () => {
  it('refuses a callout naming another tenant, wherever it names it', () => {
    expect(checkTenant(json({ tenantId: '99999' }), '12345')).toEqual({
      ok: false,
      reason: 'callout is from Zuora tenant 99999, not the tenant this endpoint serves (CALLOUT_EXPECTED_TENANT_ID)',
    });
    // One right and one wrong is still wrong.
    expect(
      checkTenant(
        request({
          headers: { 'content-type': 'application/json', 'zuora-tenant-id': '12345' },
          body: '{"tenantId":"99999"}',
        }),
        '12345',
      ),
    ).toMatchObject({ ok: false });
  });

  it('does not repeat a tenant id that is not one', () => {
    expect(checkTenant(json({ tenantId: '<script>' }), '12345')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('a tenant id that is not one'),
    });
  });

  it('accepts the expected tenant, and a callout that names no tenant', () => {
    expect(checkTenant(json({ tenantId: 12345 }), '12345')).toEqual({ ok: true, tenantId: '12345' });
    expect(checkTenant(json({ subscriptionNumber: 'A-S1' }), '12345')).toEqual({ ok: true });
  });
});
