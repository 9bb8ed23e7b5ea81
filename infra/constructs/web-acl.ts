import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { asCidr, isIpv6Range } from '../settings';
import { keepParentLogicalIds } from './logical-ids';

/** The rate rule's name, also a dimension of its WAF metrics (AWS/WAFV2 Rule). */
export const WAF_RATE_RULE_NAME = 'PerIpRateLimit';

export interface CalloutWebAclProps {
  /** The REST API stage the web ACL guards. */
  readonly stage: apigw.Stage;
  /** Unique per bridge in a region, at most 128 characters: the dashboard addresses the ACL's metrics by it. */
  readonly name: string;
  /** Requests per source address in 5 minutes above which the address is blocked (403). */
  readonly limitPerIp: number;
  /** Zuora's addresses (CIDRs or single addresses), never limited. */
  readonly exemptRanges: readonly string[];
}

/**
 * A per-IP rate-based rule in front of the stage: WAF is evaluated before the stage throttle, so one address
 * flooding the endpoint is blocked (403) instead of using up the throttle Zuora's callouts need. Zuora's
 * addresses never count: a bill run comes from a few of them.
 */
export class CalloutWebAcl extends Construct {
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: CalloutWebAclProps) {
    super(scope, id);
    keepParentLogicalIds(this);
    const ipSets = (['IPV4', 'IPV6'] as const).flatMap((version) => {
      const addresses = props.exemptRanges.filter((range) => isIpv6Range(range) === (version === 'IPV6')).map(asCidr);
      if (addresses.length === 0) return [];
      return [
        new wafv2.CfnIPSet(this, `ZuoraAddresses${version === 'IPV4' ? 'V4' : 'V6'}`, {
          scope: 'REGIONAL',
          ipAddressVersion: version,
          addresses,
          description: 'zuora-limio-sync: Zuora callout addresses, exempt from the per-IP rate limit',
        }),
      ];
    });
    const fromZuora = ipSets.map((set) => ({ ipSetReferenceStatement: { arn: set.attrArn } }));
    // Sampled requests would show whole requests, Authorization header included, in the WAF console.
    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: false,
    });
    this.webAcl = new wafv2.CfnWebACL(this, 'CalloutWebAcl', {
      name: props.name,
      scope: 'REGIONAL',
      description: 'zuora-limio-sync: per-IP rate limit on the callout API, Zuora exempt',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('ZuoraLimioSyncCalloutAcl'),
      rules: [
        {
          name: WAF_RATE_RULE_NAME,
          priority: 0,
          action: { block: {} },
          visibilityConfig: visibility('ZuoraLimioSyncPerIpRateLimit'),
          statement: {
            rateBasedStatement: {
              limit: props.limitPerIp,
              aggregateKeyType: 'IP',
              evaluationWindowSec: 300,
              scopeDownStatement: {
                notStatement: {
                  statement: fromZuora.length === 1 ? fromZuora[0] : { orStatement: { statements: fromZuora } },
                },
              },
            },
          },
        },
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'CalloutWebAclAssociation', {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}
