import { FAILED_SWEEPS, MISSING_CALLOUTS_SWEEPS } from '../settings';

/**
 * The longer alarm descriptions: what each alarm means and what to do, as the alarm email shows it. The short
 * ones stay beside their alarm in alarms.ts.
 */

/**
 * A callout is all or nothing, and a 4xx tells Zuora that retrying will not help: without this alarm a refused
 * callout is lost silently. The reasons are those of functions/callout/callout-handler.ts (RefusalReason).
 */
export const CALLOUT_THROTTLED_ALARM_DESCRIPTION =
  "API Gateway answered 429 to callouts: the stage throttle (throttleRateLimit / throttleBurstLimit) was used up, by a bill run's peak or by other callers. " +
  'A throttled callout never reaches the callout Lambda, and Zuora retries it only a few times, slowly: its subscriptions may not be queued. ' +
  "The API access log's status-429 lines name the sourceIp: if it is not Zuora, set allowedIpRanges or wafRateLimitPerIp; if it is Zuora, raise the throttle. " +
  'Then backfill what changed meanwhile with "zuora-limio-sync enqueue". See docs/connecting-zuora.md, "The public endpoint".';

export const CALLOUT_REFUSED_ALARM_DESCRIPTION =
  "The callout Lambda refused Zuora callouts: none of their subscription ids were queued, and a 4xx means Zuora's retries get the same answer. " +
  'Read the "callout refused" lines in the callout Lambda\'s logs (status, reason, detail): ' +
  'auth-invalid or auth-missing = the callout credentials were rotated on one side only (Zuora or the callout auth secret); ' +
  'no-ids, malformed-body or unsupported-media-type = a Zuora template changed; ' +
  'invalid-id = an id that does not match SUBSCRIPTION_ID_PATTERN; ' +
  "wrong-tenant = a callout from another Zuora tenant than expectedZuoraTenantId (a sandbox pointed at this endpoint: fix that tenant's callout URL, nothing to backfill); " +
  'too-many-ids or body-too-large = more ids than calloutMaxIds / calloutMaxBodyBytes allow; ' +
  '5xx reasons (auth-unavailable, queue-unavailable, internal-error) also raise Api5xxAlarm. ' +
  'Fix the cause, then backfill the refused subscriptions with "zuora-limio-sync enqueue". See docs/operating.md, runbook "a callout was refused".';

/**
 * Should never fire: every visibility the sync Lambda asks for is kept within SQS's 12 hours from the receive.
 * If SQS still refuses one, each refusal spends a receive towards the redrive count, which moves a message to the
 * DLQ without a reason.
 */
export const VISIBILITY_REFUSED_ALARM_DESCRIPTION =
  "SQS refused a ChangeMessageVisibility the sync Lambda asked for (a hold while the breaker is open, or a backoff): the message came back after the main queue's visibility timeout instead, one more receive towards the redrive count. " +
  'Read the sync Lambda\'s "SQS refused the ... visibility" log lines (error code): a limit of SQS the code does not know, or a permission removed from the sync role. ' +
  'Messages past MAX_ATTEMPTS receives are dead-lettered as exhausted with their reason; replay them once the cause is fixed.';

/**
 * Not "nothing to do": a Limio secret that is unreadable or refused fails every token request, which keeps the
 * breaker open on purpose (nothing could sync) until an operator fixes the secret.
 */
export const BREAKER_OPEN_ALARM_DESCRIPTION =
  'Outage mode: the circuit breaker is open (or half-open, letting a small batch through); sync polling is paused and messages wait in the main queue. ' +
  'The OK notification means the breaker closed and the backlog is draining. Run "zuora-limio-sync status" for the reason. ' +
  'If the reason is about the token (token endpoint failed, or refused the client credentials), read the probe Lambda\'s "Limio probed" log lines: ' +
  '"refused the client credentials" or "cannot read the Limio credentials secret" means the Limio secret is wrong or unreadable, not that Limio is down; ' +
  'the breaker stays open on purpose until you fix the secret (the next probe reads it again). ' +
  'Otherwise Limio is down: the breaker closes by itself when it is back. ' +
  'A message held close to the queue\'s 14-day retention is dead-lettered as exhausted. See docs/operating.md, runbook "Limio was down for an hour".';

export const SWEEP_FAILED_ALARM_DESCRIPTION =
  `The reconciliation sweep failed, or fell behind, in ${FAILED_SWEEPS} sweep intervals in a row: changes whose callout never came are not being found in time. ` +
  'Read the sweep Lambda\'s ERROR line ("sweep failed: ... (<kind>)"): ' +
  'credentials = the Zuora secret (ZuoraSecretArn output) holds the stand-ins or Zuora refused its clientId/clientSecret; ' +
  "rate-limited = the tenant's API limits are used up by other integrations; " +
  'unavailable or deadline = Zuora did not answer in time; refused or protocol = zuoraBaseUrl or zuoraEntityId is wrong; enqueue = the main queue refused messages; ' +
  "outside-slice = Zuora answered with changes outside the times asked for (it read them in the tenant's zone). " +
  'No ERROR line but "sweep out-of-time" lines with a growing sweepLagSeconds: Zuora answers too slowly for this much change. ' +
  'Callouts still sync meanwhile. Once fixed, the sweep resumes from its watermark; for a longer gap run "zuora-limio-sync sweep --since". See docs/operating.md, "Alarms".';

export const MISSING_CALLOUTS_ALARM_DESCRIPTION =
  `Subscriptions changed in Zuora with nothing queued for them since (no callout reached the bridge: sweepMissing) in ${MISSING_CALLOUTS_SWEEPS} sweeps in a row; the sweep queued them, so Limio catches up, but callouts are being lost. ` +
  'A backlog or a Limio outage does not raise it: changes whose callouts came are pending (sweepPending), not missing. ' +
  'Check in Zuora: the workflow or notification that sends the callout (disabled, edited, its filter or event changed, or a new kind of change it does not cover); ' +
  'its delivery history (failing or retried callouts, a wrong URL or credential); ' +
  'and on the bridge: CalloutRefusedAlarm / CalloutThrottledAlarm / Api5xxAlarm (callouts refused or throttled). ' +
  'The sweep\'s log lines name how many were missing per run. See docs/operating.md, runbook "callouts are missing".';

/**
 * Whole invocations only: an unknown account is dead-lettered with its reason (DeadLettersAlarm), and Zuora's 429
 * and 5xx are retried within the budget, so neither shows here.
 */
export const FAN_OUT_ERRORS_ALARM_DESCRIPTION =
  'The fan-out Lambda failed whole invocations (configuration, crash or timeout): account callouts wait on the account queue and come back after its visibility timeout; ' +
  "past MAX_ATTEMPTS receives they are dead-lettered without a reason. Read the fan-out Lambda's logs. " +
  'A Zuora secret holding the stand-ins or refused (ZuoraSecretArn output) also fails the sweep (SweepFailedAlarm). ' +
  'Unknown accounts are not errors: they are dead-lettered with their reason (DeadLettersAlarm). Replay dead letters once the cause is fixed.';
