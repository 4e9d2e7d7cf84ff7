/** Server-sent events wire format: each frame is serialised once and written to many streams. */

/** A frame with a resume cursor (`id:`), an event name and one JSON `data:` line. */
export function eventFrame(event: string, data: unknown, id?: number | string): string {
  // JSON.stringify never emits a raw newline, so one `data:` line always suffices.
  const idLine = id === undefined ? '' : `id: ${id}\n`;
  return `${idLine}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A comment line: keeps proxies and the agent's read timeout from closing an idle stream. */
export const HEARTBEAT_FRAME = ': keep-alive\n\n';

/** The reconnection delay hint, with jitter so that a restart does not bring every agent back at once. */
export function retryFrame(baseMs: number, jitterMs: number, random: () => number = Math.random): string {
  return `retry: ${Math.round(baseMs + random() * jitterMs)}\n\n`;
}

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
} as const;

/** Why a stream is ended by the server before the agent closes it. */
export type ReauthReason = 'expired' | 'revoked';

/** The last frame of a stream whose token expired or was revoked: the agent logs in again and reconnects. */
export const reauthFrame = (reason: ReauthReason): string => eventFrame('reauth', { reason });
