/**
 * When each agent was last heard from on this node (any authenticated request, open streams),
 * in memory: the journal only records when an agent sent events, and writing a journal entry
 * per poll would be noise. Lost on restart; the journal's last event time remains.
 */
export function createPresence(now: () => number = Date.now, maxAgents = 1_000_000) {
  const seen = new Map<string, number>();
  return {
    seen(agent: string): void {
      if (!seen.has(agent) && seen.size >= maxAgents) seen.delete(seen.keys().next().value as string);
      seen.set(agent, now());
    },
    lastSeen: (agent: string): number | undefined => seen.get(agent),
    forget(agent: string): void {
      seen.delete(agent);
    },
  };
}
export type Presence = ReturnType<typeof createPresence>;
