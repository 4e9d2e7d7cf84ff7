/**
 * Times a drain into a reference engine (`--record count`) by polling its `stats()`: the clock
 * starts at the first poll that sees events arrive (so server start-up is not counted) and stops
 * when every expected event was accepted. CPU seconds of `pid` (the sender) over the same span.
 */
import type { EngineHandle } from '../../test/support/engine/engine.js';
import { cpuSeconds } from '../support.js';
import { sleep } from './commsApi.js';

export interface DrainTiming {
  eventsPerSecond: number;
  /** Seconds from the first observed event to the last. */
  seconds: number;
  cpuSeconds: number;
  dataHash: string | null;
  accepted: number;
}

/** CPU seconds of `pid`, or NaN once it has exited. */
const cpuOf = (pid: number): number => {
  try {
    return cpuSeconds(pid);
  } catch {
    return NaN;
  }
};

export async function timeEngineDrain(engine: EngineHandle, expected: number, pid: number, timeoutMs = 240_000): Promise<DrainTiming> {
  const deadline = Date.now() + timeoutMs;
  let first: { t: number; accepted: number; cpu: number } | null = null;
  for (;;) {
    const s = await engine.stats();
    const t = performance.now();
    if (!first && s.accepted_events > 0) first = { t, accepted: s.accepted_events, cpu: cpuOf(pid) };
    if (s.accepted_events >= expected) {
      const cpu = cpuOf(pid);
      const f = first!;
      // the first poll already saw `f.accepted` events: count only what arrived after it
      const seconds = Math.max((t - f.t) / 1000, 0.001);
      return { eventsPerSecond: (s.accepted_events - f.accepted) / seconds, seconds, cpuSeconds: cpu - f.cpu, dataHash: s.data_hash, accepted: s.accepted_events };
    }
    if (Date.now() > deadline) throw new Error(`engine accepted ${s.accepted_events}/${expected} events after ${timeoutMs} ms`);
    await sleep(50);
  }
}
