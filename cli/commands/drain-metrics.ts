import type { CloudWatchClient, MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { measurementFromMinutes, type DrainMeasurement, type MetricPoint } from './drain-estimate';

/** How far back a deployed bridge's drain rate looks: recent enough to follow a change, long enough to smooth batches. */
export const DRAIN_WINDOW_MINUTES = 5;
/** Asked for beyond the window, since SQS's newest minutes reach CloudWatch a few minutes late. */
const LATE_MINUTES = 5;
const MINUTE_MS = 60_000;

/**
 * The main queue's drain from CloudWatch: NumberOfMessagesDeleted (what the sync Lambda's event source mapping
 * deleted: synced, or dead-lettered by the Lambda) and NumberOfMessagesSent, one-minute sums. A stack's role or
 * an operator's credentials without cloudwatch:GetMetricData give `unavailable` and the reason; status goes on.
 */
export async function drainFromCloudWatch(
  cloudWatch: CloudWatchClient,
  queueUrl: string,
  now: number,
): Promise<DrainMeasurement | { unavailable: string }> {
  const queueName = decodeURIComponent(new URL(queueUrl).pathname.split('/').filter(Boolean).pop() ?? '');
  // The minute under way is not over: its sum would read low.
  const end = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const metric = (id: string, metricName: string) => ({
    Id: id,
    MetricStat: {
      Metric: { Namespace: 'AWS/SQS', MetricName: metricName, Dimensions: [{ Name: 'QueueName', Value: queueName }] },
      Period: 60,
      Stat: 'Sum',
    },
    ReturnData: true,
  });
  try {
    const { GetMetricDataCommand } = await import('@aws-sdk/client-cloudwatch');
    const answer = await cloudWatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(end - (DRAIN_WINDOW_MINUTES + LATE_MINUTES) * MINUTE_MS),
        EndTime: new Date(end),
        MetricDataQueries: [metric('deleted', 'NumberOfMessagesDeleted'), metric('sent', 'NumberOfMessagesSent')],
      }),
    );
    const points = (id: string) => pointsOf(answer.MetricDataResults?.find((result) => result.Id === id));
    const measurement = measurementFromMinutes(points('deleted'), points('sent'), DRAIN_WINDOW_MINUTES);
    return (
      measurement ?? {
        unavailable: `CloudWatch has no NumberOfMessagesDeleted of ${queueName} in the last ${DRAIN_WINDOW_MINUTES + LATE_MINUTES} min`,
      }
    );
  } catch (error) {
    const { name, message } = error as Error;
    return {
      unavailable: `CloudWatch GetMetricData failed: ${name && name !== 'Error' && !message.startsWith(name) ? `${name}: ` : ''}${message}`,
    };
  }
}

function pointsOf(result: MetricDataResult | undefined): MetricPoint[] {
  const timestamps = result?.Timestamps ?? [];
  const values = result?.Values ?? [];
  return timestamps.map((timestamp, index) => ({ at: timestamp.getTime(), value: values[index] ?? 0 }));
}
