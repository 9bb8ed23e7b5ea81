// Makes the local SQS emulator refuse what real SQS refuses about visibility: a message's visibility may last
// at most 12 hours counted from the ReceiveMessage that returned it, so a ChangeMessageVisibility whose new
// timeout plus the time already spent since that receive exceeds 43,200 s is refused with InvalidParameterValue.
// fauxqs (1.9.2) only checks the timeout on its own (0 to 43,200), so without this a hold or backoff that real
// SQS would refuse passes every local test and the local runtime. fauxqs speaks the AWS JSON protocol for SQS
// (X-Amz-Target: AmazonSQS.<Action>), which the AWS SDK v3 client uses; form-encoded requests go to its SNS
// router and never reach an SQS queue's visibility.

/** SQS's limit on a message's visibility, counted from its receive. */
const SQS_VISIBILITY_CEILING_SECONDS = 12 * 60 * 60;

/**
 * Why SQS would refuse this visibility change, or undefined when it would take it. Milliseconds are compared
 * exactly: a request for the whole 43,200 s any time after the receive is refused.
 */
function visibilityCeilingRefusal({
  requestedSeconds,
  receivedAtMs,
  nowMs,
  ceilingSeconds = SQS_VISIBILITY_CEILING_SECONDS,
}) {
  if (typeof requestedSeconds !== 'number' || !Number.isFinite(requestedSeconds)) return undefined;
  const spentMs = Math.max(0, nowMs - receivedAtMs);
  if (requestedSeconds * 1000 + spentMs <= ceilingSeconds * 1000) return undefined;
  return {
    code: 'InvalidParameterValue',
    message: `Value ${requestedSeconds} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [${ceilingSeconds} seconds]`,
  };
}

/**
 * Test-only: FAUXQS_VISIBILITY_CEILING_SECONDS lowers the ceiling, so that tests can let "the time since the
 * receive" pass in seconds instead of hours. Unset (the local runtime), the ceiling is SQS's 43,200 s.
 */
export function visibilityCeilingSecondsFromEnv(env) {
  const raw = env.FAUXQS_VISIBILITY_CEILING_SECONDS;
  if (raw === undefined || raw === '') return SQS_VISIBILITY_CEILING_SECONDS;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > SQS_VISIBILITY_CEILING_SECONDS) {
    throw new Error(
      `FAUXQS_VISIBILITY_CEILING_SECONDS must be a whole number of seconds from 1 to ${SQS_VISIBILITY_CEILING_SECONDS}, got ${raw}`,
    );
  }
  return seconds;
}

const TARGET_PREFIX = 'AmazonSQS.';

/**
 * Registers the rule on a fauxqs app (buildApp) before it listens: remembers when each receipt handle was
 * received, from ReceiveMessage answers, and refuses ChangeMessageVisibility (the whole request, HTTP 400) and
 * ChangeMessageVisibilityBatch entries (as Failed entries, SenderFault) that go beyond the ceiling, as SQS does.
 * Returns counters a test or the runtime may read.
 */
export function registerVisibilityCeiling(
  app,
  { ceilingSeconds = SQS_VISIBILITY_CEILING_SECONDS, now = Date.now } = {},
) {
  /** Receipt handle -> epoch ms of the receive that returned it. */
  const receivedAt = new Map();
  const stats = { refused: 0 };
  /** Batch entries refused before fauxqs saw the request, added to its answer on the way out. */
  const refusedEntries = new WeakMap();

  const actionOf = (request) => {
    const target = request.headers['x-amz-target'];
    return typeof target === 'string' && target.startsWith(TARGET_PREFIX)
      ? target.slice(TARGET_PREFIX.length)
      : undefined;
  };
  const refusalFor = (receiptHandle, requestedSeconds) => {
    const at = typeof receiptHandle === 'string' ? receivedAt.get(receiptHandle) : undefined;
    // A handle this guard never saw received is left to fauxqs, which answers for unknown handles itself.
    if (at === undefined) return undefined;
    return visibilityCeilingRefusal({ requestedSeconds, receivedAtMs: at, nowMs: now(), ceilingSeconds });
  };
  const forgetExpired = () => {
    // 12 h after its receive no visibility SQS allows still hides a message, so its handle can no longer change
    // anything. Counted on SQS's ceiling even when a test lowers the guard's: a queue's own visibility timeout
    // may then outlast the lowered ceiling, and a handle forgotten too early would let fauxqs take any change.
    const oldest = now() - SQS_VISIBILITY_CEILING_SECONDS * 1000;
    for (const [handle, at] of receivedAt) if (at < oldest) receivedAt.delete(handle);
  };

  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST') return;
    const action = actionOf(request);
    const body = request.body;
    if (action === undefined || body === null || typeof body !== 'object') return;
    switch (action) {
      case 'ChangeMessageVisibility': {
        const refusal = refusalFor(body.ReceiptHandle, body.VisibilityTimeout);
        if (refusal === undefined) return;
        stats.refused += 1;
        reply
          .status(400)
          .header('content-type', 'application/x-amz-json-1.0')
          .header('x-amzn-query-error', `${refusal.code};Sender`);
        return reply.send({ __type: `com.amazonaws.sqs#${refusal.code}`, message: refusal.message });
      }
      case 'ChangeMessageVisibilityBatch': {
        if (!Array.isArray(body.Entries)) return;
        const refused = [];
        const accepted = [];
        for (const entry of body.Entries) {
          const refusal =
            entry && typeof entry === 'object' ? refusalFor(entry.ReceiptHandle, entry.VisibilityTimeout) : undefined;
          if (refusal === undefined) accepted.push(entry);
          else refused.push({ Id: entry.Id, SenderFault: true, Code: refusal.code, Message: refusal.message });
        }
        if (refused.length === 0) return;
        stats.refused += refused.length;
        if (accepted.length === 0) {
          reply.header('content-type', 'application/x-amz-json-1.0');
          return reply.send({ Successful: [], Failed: refused });
        }
        body.Entries = accepted;
        refusedEntries.set(request, refused);
        return;
      }
      case 'DeleteMessage':
        receivedAt.delete(body.ReceiptHandle);
        return;
      case 'DeleteMessageBatch':
        if (Array.isArray(body.Entries)) for (const entry of body.Entries) receivedAt.delete(entry?.ReceiptHandle);
        return;
      default:
        return;
    }
  });

  app.addHook('preSerialization', async (request, reply, payload) => {
    if (request.method !== 'POST' || reply.statusCode !== 200 || payload === null || typeof payload !== 'object')
      return payload;
    const action = actionOf(request);
    if (action === 'ReceiveMessage' && Array.isArray(payload.Messages)) {
      forgetExpired();
      const at = now();
      for (const message of payload.Messages)
        if (typeof message.ReceiptHandle === 'string') receivedAt.set(message.ReceiptHandle, at);
    } else if (action === 'ChangeMessageVisibilityBatch') {
      const refused = refusedEntries.get(request);
      if (refused !== undefined) return { ...payload, Failed: [...(payload.Failed ?? []), ...refused] };
    }
    return payload;
  });

  return {
    stats,
    /** Receipt handles whose receive is remembered right now. */
    get tracked() {
      return receivedAt.size;
    },
  };
}
