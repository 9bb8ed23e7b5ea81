import {
  GetEventSourceMappingCommand,
  ResourceInUseException,
  UpdateEventSourceMappingCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';

/**
 * Turns the sync Lambda's intake on and off. While the breaker is open nothing is received at all, so no
 * receive is spent and no message moves towards the DLQ; messages simply wait in the queue (14-day retention).
 */
export interface SyncPollingController {
  /**
   * Idempotent: called on every probe run with what the breaker wants. `maxConcurrency` caps concurrent
   * invocations (the half-open batch, then full speed); omitted, the current cap is kept.
   */
  setSyncPolling(enabled: boolean, options?: { readonly maxConcurrency?: number }): Promise<PollingChange>;
}

/** `busy`: the mapping is mid-update and refused; the next probe run tries again. */
export type PollingChange = 'changed' | 'unchanged' | 'busy';

/**
 * AWS: the sync function's SQS event source mapping. A disabled mapping stops polling and loses nothing;
 * re-enabled, it resumes at its ScalingConfig.MaximumConcurrency. Needs lambda:GetEventSourceMapping and
 * lambda:UpdateEventSourceMapping on this one mapping's ARN only.
 */
export class LambdaEventSourceController implements SyncPollingController {
  constructor(
    private readonly client: LambdaClient,
    private readonly mappingId: string,
  ) {}

  async setSyncPolling(enabled: boolean, options: { readonly maxConcurrency?: number } = {}): Promise<PollingChange> {
    const mapping = await this.client.send(new GetEventSourceMappingCommand({ UUID: this.mappingId }));
    const state = mapping.State ?? '';
    const isEnabled = state === 'Enabled' || state === 'Enabling';
    const isDisabled = state === 'Disabled' || state === 'Disabling';
    const concurrencyMatches =
      options.maxConcurrency === undefined || mapping.ScalingConfig?.MaximumConcurrency === options.maxConcurrency;
    if (enabled ? isEnabled && concurrencyMatches : isDisabled) return 'unchanged';
    try {
      await this.client.send(
        new UpdateEventSourceMappingCommand({
          UUID: this.mappingId,
          Enabled: enabled,
          // The cap is left alone while disabled; half-open sets the small one before polling resumes.
          ...(enabled &&
            options.maxConcurrency !== undefined && { ScalingConfig: { MaximumConcurrency: options.maxConcurrency } }),
        }),
      );
      return 'changed';
    } catch (error) {
      if (error instanceof ResourceInUseException) return 'busy';
      throw error;
    }
  }
}

/** What the local runtime's SQS poller offers the breaker. */
export interface PausablePoller {
  pause(): void;
  resume(): void;
  /** Concurrent batches the poller hands to the sync handler; optional for a poller with a fixed cap. */
  setMaxConcurrency?(maxConcurrency: number): void;
}

/** Local: pauses and resumes the poller object given to it, as the event source mapping is in AWS. */
export class PollerController implements SyncPollingController {
  #enabled: boolean | undefined;
  #maxConcurrency: number | undefined;

  constructor(private readonly poller: PausablePoller) {}

  async setSyncPolling(enabled: boolean, options: { readonly maxConcurrency?: number } = {}): Promise<PollingChange> {
    const wantedConcurrency = enabled ? (options.maxConcurrency ?? this.#maxConcurrency) : this.#maxConcurrency;
    if (this.#enabled === enabled && wantedConcurrency === this.#maxConcurrency) return 'unchanged';
    if (enabled && options.maxConcurrency !== undefined && this.poller.setMaxConcurrency) {
      this.poller.setMaxConcurrency(options.maxConcurrency);
    }
    this.#maxConcurrency = wantedConcurrency;
    if (this.#enabled !== enabled) {
      if (enabled) this.poller.resume();
      else this.poller.pause();
      this.#enabled = enabled;
    }
    return 'changed';
  }
}
