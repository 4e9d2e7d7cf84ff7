import type { Db } from '../journal/database.js';
import type { EntryOf } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import type { AgentId, CommandId } from '../journal/ids.js';
import { findCommand, targetState } from '../projections/commandsReads.js';
import type { IndexReader } from '../indexer/indexedDocs.js';
import { importedCommand } from './followCommandsIndex.js';
import { COMMAND_MODULE, parseStatefulBodyYielding, type ingestStatefulEvents } from '../commands/ingestStatefulEvents.js';
import { AlreadyReportedError, applyCommandResult, NotATargetError, type CommandResult } from '../commands/recordCommandResult.js';
import { StatusError } from '../errors.js';

/** The indexer could not be asked (scale-out lookups): 503, try again. */
export class IndexerUnavailableError extends StatusError {
  readonly status = 503;
  override readonly headers = { 'Retry-After': '5' };
}

interface Deps {
  db: Db;
  commit: GroupCommit;
  reader: IndexReader;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** How long a command issued on another node may take to reach the index (its node's indexer pipeline). */
export const RECENT_COMMAND_MS = 60_000;
const LOOKUP_RETRY_MS = 250;
const LOOKUP_PATIENCE_MS = 3_000;

/** When the command was issued, read from its id (`newCommandId`: 9 base-36 digits of ms, "-", ...), or undefined. */
export function commandIdTime(id: string): number | undefined {
  return /^[0-9a-z]{9}-/.test(id) ? parseInt(id.slice(0, 9), 36) : undefined;
}

/**
 * The target's document. For a command issued moments ago (its id tells when) that is not in the
 * index yet, asked again for a few seconds, then 503: the issuing node's indexer has not written it
 * yet, the agent should retry.
 */
async function lookUp(deps: Deps, agent: AgentId, id: CommandId) {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const issuedAt = commandIdTime(id);
  const recent = issuedAt !== undefined && Math.abs(now() - issuedAt) <= RECENT_COMMAND_MS;
  const giveUpAt = now() + LOOKUP_PATIENCE_MS;
  for (;;) {
    const found = await deps.reader.commandTarget(id, agent);
    if (!found.ok) throw new IndexerUnavailableError(`the indexer cannot be asked about command ${id}: ${found.reason}`);
    if (found.value || !recent || findCommand(deps.db, id)) return found.value;
    // issued to others (the agent is no target): no point waiting for this agent's document
    const others = await deps.reader.commandExists(id);
    if (others.ok && others.value) return undefined;
    if (now() >= giveUpAt) throw new IndexerUnavailableError(`command ${id} is not in the commands index yet`);
    await sleep(LOOKUP_RETRY_MS);
  }
}

/**
 * The target (agent, command) as the commands index holds it, when this node does not know it:
 * the CommandImported entry to journal, or undefined (known here, or not in the index: the local
 * decision then refuses it). A target already finished elsewhere is refused at once (409).
 */
async function indexedTarget(deps: Deps, agent: AgentId, id: CommandId): Promise<EntryOf<'CommandImported'> | undefined> {
  if (targetState(deps.db, id, agent)) return undefined;
  const doc = await lookUp(deps, agent, id);
  const imported = doc ? importedCommand(doc) : undefined;
  if (!doc || !imported) {
    if (!findCommand(deps.db, id)) {
      const exists = await deps.reader.commandExists(id);
      if (exists.ok && exists.value) throw new NotATargetError(`command ${id} was not issued to agent ${agent}`);
    }
    return undefined;
  }
  if (doc.state !== 'pending' && doc.state !== 'delivered') {
    throw new AlreadyReportedError(`command ${id} is already ${doc.state} for agent ${agent}`);
  }
  return imported;
}

/**
 * `POST /commands/{id}/result` on a scaled-out node: a target this node does not know may belong
 * to a command issued on another node. Its commands index document (a real-time get) is the
 * target check; the target is imported and the result recorded in one transaction, so this
 * node's journal reads CommandImported → CommandDelivered → outcome. Known targets take the
 * local path unchanged.
 */
export function recordIndexedCommandResult(deps: Deps) {
  return async (agent: AgentId, id: CommandId, result: CommandResult): Promise<void> => {
    const imported = await indexedTarget(deps, agent, id);
    return deps.commit.run((tx) => {
      if (imported && !targetState(deps.db, id, agent)) tx.append(imported);
      applyCommandResult(deps.db, tx, agent, id, result);
    });
  };
}

/**
 * A stateful batch whose `module:"command"` items report on commands issued on other nodes:
 * those targets are imported first (their own transaction), then the batch is ingested as usual.
 */
export function ingestIndexedStatefulEvents(deps: Deps, ingest: ReturnType<typeof ingestStatefulEvents>) {
  return async (agent: AgentId, body: Buffer): ReturnType<typeof ingest> => {
    if (body.includes(`"${COMMAND_MODULE}"`)) {
      const ids = new Set((await parseStatefulBodyYielding(body)).flatMap((i) => (i.module === COMMAND_MODULE && i.doc ? [i.id as CommandId] : [])));
      const imports = (await Promise.all([...ids].map((id) => indexedTarget(deps, agent, id)))).filter((e) => e !== undefined);
      if (imports.length > 0) {
        await deps.commit.run((tx) => {
          for (const e of imports) if (!targetState(deps.db, e.data.id, agent)) tx.append(e);
        });
      }
    }
    return ingest(agent, body);
  };
}
