import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LedgerStore } from '../../functions/ledger/ledger-store';
import type { LedgerTarget } from '../target-types';

type Env = Readonly<Record<string, string | undefined>>;

export interface OpenLedger {
  readonly store: LedgerStore;
  readonly tableName: string;
  /** Where it is, for messages: the table, and the local endpoint when it is the runtime's emulator. */
  readonly where: string;
  readonly client: DynamoDBClient;
}

/**
 * The sync ledger of a target through the same store the sync Lambda and the sweep use. Locally it is the
 * runtime's DynamoDB emulator, reached with the emulators' dummy credentials, so real AWS credentials never go
 * there; otherwise DynamoDB as the breaker commands reach it (AWS_ENDPOINT_URL_DYNAMODB honoured and checked).
 */
export async function openLedger(
  target: Extract<LedgerTarget, { kind: 'table' }>,
  env: Env,
  queueUrl: string | undefined,
): Promise<OpenLedger> {
  // Imported here, not above: the commands reach this module for describeLedgerError too, and --help must not load the SDK.
  const [
    { DynamoDBClient },
    { DynamoDbLedgerStore },
    { EMULATOR_CREDENTIALS, EMULATOR_REGION },
    { awsDynamoClient, CLI_AWS_CLIENT_OPTIONS },
  ] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('../../functions/ledger/dynamodb-ledger-store'),
    import('../../local/sqs-emulator'),
    import('../aws-clients'),
  ]);
  const client =
    target.localEndpoint !== undefined
      ? new DynamoDBClient({
          ...CLI_AWS_CLIENT_OPTIONS,
          endpoint: target.localEndpoint,
          region: EMULATOR_REGION,
          credentials: EMULATOR_CREDENTIALS,
        })
      : awsDynamoClient(env, queueUrl);
  return {
    store: new DynamoDbLedgerStore(client, target.tableName),
    tableName: target.tableName,
    where:
      target.localEndpoint !== undefined
        ? `table ${target.tableName} of the local runtime's DynamoDB at ${target.localEndpoint}`
        : `table ${target.tableName}`,
    client,
  };
}

/** A ledger read's failure in the operator's terms: a missing table or a runtime that is not running says so. */
export function describeLedgerError(
  error: unknown,
  ledger: Pick<OpenLedger, 'tableName' | 'where'>,
  local: boolean,
): string {
  const name = (error as Error)?.name;
  const message = (error as Error)?.message ?? String(error);
  if (name === 'ResourceNotFoundException')
    return `the ledger ${ledger.where} does not exist${local ? ' (is `npm start` running with the sync ledger?)' : ''}`;
  const code =
    (error as { code?: string; cause?: { code?: string } }).code ??
    (error as { cause?: { code?: string } }).cause?.code;
  if (local && (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message))) {
    return `cannot reach the ${ledger.where} (connection refused); is \`npm start\` running? (one started with DYNAMODB_PORT=0 printed the port it picked: give it as DYNAMODB_PORT=N)`;
  }
  return `the ledger ${ledger.where} could not be read: ${name && name !== 'Error' && !message.startsWith(name) ? `${name}: ` : ''}${message}`;
}
