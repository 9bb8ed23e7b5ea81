import {
  GetEventSourceMappingCommand,
  LambdaClient,
  ResourceInUseException,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import {
  LambdaEventSourceController,
  PollerController,
  type PausablePoller,
} from '../../functions/breaker/polling-controller';

const MAPPING = '14e0db71-5d35-4eb5-b481-8945cf9d10c2';
const lambda = mockClient(LambdaClient);
const controller = new LambdaEventSourceController(new LambdaClient({ region: 'eu-west-1' }), MAPPING);

beforeEach(() => lambda.reset());
afterAll(() => lambda.restore());

describe('LambdaEventSourceController', () => {
  it('disables an enabled mapping, leaving its concurrency alone', async () => {
    lambda
      .on(GetEventSourceMappingCommand)
      .resolves({ UUID: MAPPING, State: 'Enabled', ScalingConfig: { MaximumConcurrency: 20 } });
    lambda.on(UpdateEventSourceMappingCommand).resolves({ UUID: MAPPING, State: 'Disabling' });
    await expect(controller.setSyncPolling(false)).resolves.toBe('changed');
    expect(lambda.commandCalls(GetEventSourceMappingCommand)[0]!.args[0].input).toEqual({ UUID: MAPPING });
    expect(lambda.commandCalls(UpdateEventSourceMappingCommand)[0]!.args[0].input).toEqual({
      UUID: MAPPING,
      Enabled: false,
    });
  });

  it('enables a disabled mapping at the half-open concurrency', async () => {
    lambda
      .on(GetEventSourceMappingCommand)
      .resolves({ UUID: MAPPING, State: 'Disabled', ScalingConfig: { MaximumConcurrency: 20 } });
    lambda.on(UpdateEventSourceMappingCommand).resolves({});
    await expect(controller.setSyncPolling(true, { maxConcurrency: 2 })).resolves.toBe('changed');
    expect(lambda.commandCalls(UpdateEventSourceMappingCommand)[0]!.args[0].input).toEqual({
      UUID: MAPPING,
      Enabled: true,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('raises the cap of an enabled mapping to full speed', async () => {
    lambda
      .on(GetEventSourceMappingCommand)
      .resolves({ UUID: MAPPING, State: 'Enabled', ScalingConfig: { MaximumConcurrency: 2 } });
    lambda.on(UpdateEventSourceMappingCommand).resolves({});
    await expect(controller.setSyncPolling(true, { maxConcurrency: 20 })).resolves.toBe('changed');
    expect(lambda.commandCalls(UpdateEventSourceMappingCommand)[0]!.args[0].input).toEqual({
      UUID: MAPPING,
      Enabled: true,
      ScalingConfig: { MaximumConcurrency: 20 },
    });
  });

  it('changes nothing when the mapping is already as wanted (or on its way there)', async () => {
    lambda
      .on(GetEventSourceMappingCommand)
      .resolvesOnce({ State: 'Enabled', ScalingConfig: { MaximumConcurrency: 20 } })
      .resolvesOnce({ State: 'Disabling' })
      .resolvesOnce({ State: 'Enabling' });
    await expect(controller.setSyncPolling(true, { maxConcurrency: 20 })).resolves.toBe('unchanged');
    await expect(controller.setSyncPolling(false)).resolves.toBe('unchanged');
    await expect(controller.setSyncPolling(true)).resolves.toBe('unchanged');
    expect(lambda.commandCalls(UpdateEventSourceMappingCommand)).toHaveLength(0);
  });

  it('reports a mapping busy updating as busy, and rethrows anything else', async () => {
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Updating' });
    lambda
      .on(UpdateEventSourceMappingCommand)
      .rejectsOnce(new ResourceInUseException({ message: 'mapping is updating', $metadata: {} }));
    await expect(controller.setSyncPolling(false)).resolves.toBe('busy');
    lambda.on(UpdateEventSourceMappingCommand).rejects(new Error('AccessDeniedException'));
    await expect(controller.setSyncPolling(false)).rejects.toThrow('AccessDeniedException');
  });
});

describe('PollerController (local runtime)', () => {
  function recordingPoller() {
    const calls: string[] = [];
    const poller: PausablePoller = {
      pause: () => calls.push('pause'),
      resume: () => calls.push('resume'),
      setMaxConcurrency: (n) => calls.push(`concurrency ${n}`),
    };
    return { poller, calls };
  }

  it('pauses and resumes the poller and sets its concurrency, once per change', async () => {
    const { poller, calls } = recordingPoller();
    const local = new PollerController(poller);
    expect(await local.setSyncPolling(true, { maxConcurrency: 5 })).toBe('changed');
    expect(await local.setSyncPolling(true, { maxConcurrency: 5 })).toBe('unchanged');
    expect(await local.setSyncPolling(false)).toBe('changed');
    expect(await local.setSyncPolling(false)).toBe('unchanged');
    expect(await local.setSyncPolling(true, { maxConcurrency: 2 })).toBe('changed');
    expect(await local.setSyncPolling(true, { maxConcurrency: 5 })).toBe('changed');
    expect(calls).toEqual(['concurrency 5', 'resume', 'pause', 'concurrency 2', 'resume', 'concurrency 5']);
  });

  it('works with a poller whose concurrency is fixed', async () => {
    const calls: string[] = [];
    const local = new PollerController({ pause: () => calls.push('pause'), resume: () => calls.push('resume') });
    await local.setSyncPolling(false);
    await local.setSyncPolling(true, { maxConcurrency: 2 });
    expect(calls).toEqual(['pause', 'resume']);
  });
});
