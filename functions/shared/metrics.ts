/**
 * CloudWatch namespace of every Lambda's metrics (sync, breaker probe, sweep); each tells itself apart by its
 * service dimension. The dashboard and the alarms read this one namespace.
 */
export const METRICS_NAMESPACE = 'ZuoraLimioSync';
