import type { Check } from './check';
import type { Figure } from './figures';
import type { ReplayWhileFailingResult } from './replay-run';

/** Issue #12's "replay while the subscription still fails": the replay ends, spares Limio, and loses no letter. */
export function checkReplayWhileFailing(result: ReplayWhileFailingResult): Check[] {
  const letters = result.lettersAfter;
  const withReason = letters.filter(
    (letter) =>
      letter.failureClass === 'terminal' &&
      letter.httpStatus === 404 &&
      letter.replayCount === 1 &&
      letter.replayRunId === result.runId,
  );
  return [
    {
      name: 'replay while failing: the replay ended',
      passed: result.replayEnded && result.replayed === result.lettersBefore && result.lettersBefore > 0,
      detail: result.replayEnded
        ? `in ${result.replaySeconds.toFixed(1)} s (exit ${result.exitCode}), ${result.replayed} of ${result.lettersBefore} letters replayed`
        : `still running after ${result.replaySeconds.toFixed(1)} s`,
    },
    {
      name: 'replay while failing: Limio got at most one call per letter',
      passed: result.limioCallsDuringReplay <= result.lettersBefore,
      detail: `${result.limioCallsDuringReplay} sync calls for ${result.lettersBefore} letters`,
    },
    {
      name: 'replay while failing: the letters are back in the DLQ with their reasons',
      passed:
        letters.length === result.lettersBefore &&
        withReason.length === letters.length &&
        result.failedAgainReported === result.lettersBefore &&
        result.exitCode === 1,
      detail: `${letters.length} letters after (${withReason.length} terminal 404 with replay count 1 and the run's id); the replay reported ${result.failedAgainReported} as failed again`,
    },
  ];
}

export function replayFigures(replay: ReplayWhileFailingResult): Figure[] {
  return [
    {
      measure: 'replay while failing: Limio calls',
      value: String(replay.limioCallsDuringReplay),
      baseline: `letters replayed: ${replay.lettersBefore}`,
      ratio: replay.limioCallsDuringReplay / Math.max(1, replay.lettersBefore),
      note: `replay ${replay.replayEnded ? `ended in ${replay.replaySeconds.toFixed(1)} s` : 'DID NOT END'} (--watch ${replay.options.watchSeconds} s, ends once all are back); ${replay.lettersAfter.length} letters back on the DLQ`,
    },
  ];
}
