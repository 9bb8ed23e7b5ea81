/**
 * One line saying why a fetch failed, for an error message or a log: undici hides the useful part (ECONNREFUSED,
 * a TLS error) in `cause`. Limio's client and Zuora's client report network failures the same way.
 */
export function describeFetchError(error: unknown, timeoutMs: number): string {
  const err = error as Error & { cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = err?.cause?.code ?? err?.cause?.message;
  return cause ? `${err.message} (${cause})` : String(err?.message ?? error);
}
