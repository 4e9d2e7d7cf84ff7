// The behaviours the reference engine can be told to adopt through its control channel.
//   ok         parse strictly, record, answer 200 {"accepted": n}
//   down       the engine socket is closed and its path unlinked: connecting fails (ENOENT)
//   stall      requests are read but never answered, until the mode is changed
//   error500   every request is answered 500 (or `status`, 500–599) {"error","code":90}
//   reject400  every request is answered 400 {"error","code":91}, whatever the body
// Options: `times` (error500, reject400) — only the next N requests, then back to ok;
//          `forMs` (any mode) — back to ok after that many milliseconds.
export const ENGINE_MODES = ['ok', 'down', 'stall', 'error500', 'reject400'] as const;
export type EngineMode = (typeof ENGINE_MODES)[number];

export interface ModeRequest {
  mode: EngineMode;
  times?: number;
  forMs?: number;
  status?: number;
}

export type ModeParse = { ok: true; value: ModeRequest } | { ok: false; error: string };

const isMode = (v: unknown): v is EngineMode => (ENGINE_MODES as readonly unknown[]).includes(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

export function parseModeRequest(v: unknown): ModeParse {
  if (typeof v !== 'object' || v === null) return { ok: false, error: 'body must be a JSON object' };
  const o = v as Record<string, unknown>;
  if (!isMode(o['mode'])) return { ok: false, error: `mode must be one of ${ENGINE_MODES.join(', ')}` };
  const value: ModeRequest = { mode: o['mode'] };
  if (o['times'] !== undefined) {
    if (!isCount(o['times'])) return { ok: false, error: 'times must be a positive integer' };
    if (value.mode !== 'error500' && value.mode !== 'reject400') {
      return { ok: false, error: 'times applies to error500 and reject400 only' };
    }
    value.times = o['times'];
  }
  if (o['forMs'] !== undefined) {
    if (!isCount(o['forMs'])) return { ok: false, error: 'forMs must be a positive integer' };
    value.forMs = o['forMs'];
  }
  if (o['status'] !== undefined) {
    const s = o['status'];
    if (value.mode !== 'error500' || !isCount(s) || s < 500 || s > 599) {
      return { ok: false, error: 'status applies to error500 and must be 500–599' };
    }
    value.status = s;
  }
  return { ok: true, value };
}
