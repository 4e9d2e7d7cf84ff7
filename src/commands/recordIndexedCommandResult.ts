import type { Db } from '../journal/database.js';
import type { EntryOf } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import type { AgentId, CommandId } from '../journal/ids.js';
import { findCommand, targetState } from '../queries/commands.js';
import type { IndexReader } from '../transport/indexer/indexedDocs.js';
import { importedCommand } from './followCommandsIndex.js';
import { COMMAND_MODULE, parseStatefulBody, type ingestStatefulEvents } from './ingestStatefulEvents.js';
import { AlreadyReportedError, applyCommandResult, NotATargetError, type CommandResult } from './recordCommandResult.js';

/** The indexer could not be asked (scale-out lookups): 503, try again. */
export class IndexerUnavailableError extends Error {}

interface Deps {
  db: Db;
  commit: GroupCommit;
  reader: IndexReader;
}

/**
 * The target (agent, command) as the commands index holds it, when this node does not know it:
 * the CommandImported entry to journal, or undefined (known here, or not in the index: the local
 * decision then refuses it). A target already finished elsewhere is refused at once (409).
 */
async function indexedTarget(deps: Deps, agent: AgentId, id: CommandId): Promise<EntryOf<'CommandImported'> | undefined> {
  if (targetState(deps.db, id, agent)) return undefined;
  const found = await deps.reader.commandTarget(id, agent);
  if (!found.ok) throw new IndexerUnavailableError(`the indexer cannot be asked about command ${id}: ${found.reason}`);
  const doc = found.value;
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
      const ids = new Set(parseStatefulBody(body).flatMap((i) => (i.module === COMMAND_MODULE && i.doc ? [i.id as CommandId] : [])));
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
