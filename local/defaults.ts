/**
 * Where the local runtime (`npm start`) listens, so the CLI's `--local` finds it without a state file.
 * Each can be moved by its environment variable.
 */
export const LOCAL_DEFAULTS = {
  host: '127.0.0.1',
  /** Callout endpoint: http://127.0.0.1:3000/zuora/callout (PORT). */
  calloutPort: 3000,
  /** SQS emulator (SQS_PORT); 9324 is the port SQS emulators customarily use. */
  sqsPort: 9324,
  /** Limio sandbox (LIMIO_SANDBOX_PORT), used unless LIMIO_BASE_URL points at a real tenant. */
  limioSandboxPort: 4010,
  calloutPath: '/zuora/callout',
} as const;
