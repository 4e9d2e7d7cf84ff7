import { merge, type Observable } from 'rxjs';
import type { deleteAgent } from '../commands/deleteAgent.js';
import { followAgentsIndex } from './followAgentsIndex.js';
import { followCommandsIndex } from './followCommandsIndex.js';
import { importAgent, importAgents, tokenFitsRegistration } from './importAgent.js';
import type { ingestStatefulEvents } from '../commands/ingestStatefulEvents.js';
import { decideIssueCommand, type issueCommand } from '../commands/issueCommand.js';
import type { recordCommandResult } from '../commands/recordCommandResult.js';
import { ingestIndexedStatefulEvents, IndexerUnavailableError, recordIndexedCommandResult } from './recordIndexedCommandResult.js';
import type { registerAgent } from '../commands/registerAgent.js';
import { DuplicateError } from '../journal/errors.js';
import { asCommandId } from '../journal/ids.js';
import type { Journal } from '../journal/journal.js';
import { agentRevokedAt, findAgent } from '../projections/agentsReads.js';
import { findCatalogEntry } from '../projections/catalogReads.js';
import { findPackage } from '../projections/packagesReads.js';
import { nextDeadline, pendingCommands } from '../projections/commandsReads.js';
import { findIndexedAgent } from './indexedAgents.js';
import { AgentDoc, CommandDoc, createIndexReader, type RegisteredAgentDoc } from '../indexer/indexedDocs.js';
import type { IndexerClient } from '../indexer/indexerClient.js';
import { AGENTS_INDEX, COMMANDS_INDEX, PACKAGES_INDEX } from '../indexer/templates.js';
import { createFollowerPositions } from '../journal/followerPositions.js';
import { createIndexFollower } from './indexFollower.js';
import { createCommandPublisher } from './publishCommands.js';
import { createSharedPackages } from './sharedPackages.js';
import { PackageDoc } from '../indexer/packageDocs.js';
import type { PackageStore } from '../packages/packageStore.js';

/** How many of an agent's open targets are checked at connect, and for how long at most. */
const SETTLE_MAX = 500;
const SETTLE_TIMEOUT_MS = 2_000;

/** What the HTTP layer asks of the shared indices when several nodes share one OpenSearch cluster. */
export interface ScaleOutLookups {
  /** Login: the agent's registration in the agents index (undefined when unknown or deleted). */
  findAgent(uuid: string): Promise<RegisteredAgentDoc | undefined>;
  /** Login succeeded against the index: the agent becomes known here (journaled by the actor `indexer`). */
  importAgent(doc: RegisteredAgentDoc): Promise<void>;
  /** Token check of an agent unknown here: imports it when the index holds the registration the token was issued for. */
  admitAgent(uuid: string, iatMs: number): Promise<boolean>;
  /** An agent opened a stream or a long-poll here: its open commands issued on other nodes are imported. */
  agentConnected(agent: string): Promise<void>;
  /**
   * Before an agent's backlog is read here: its targets open on this node are checked against the
   * commands index (real-time), so one finished or delivered through another node moments ago is
   * not offered again. Bounded; with the indexer unreachable the local state answers.
   */
  settleAgent(agent: string): Promise<void>;
  /**
   * Before an operator acts on an agent (delete, command): an agent registered on another node is
   * imported. Best effort: with the indexer unreachable, the local decision answers alone.
   */
  ensureAgent(uuid: string): Promise<void>;
  /**
   * Before a package is sent: a name known only to the index is imported, and content missing here
   * is fetched from the index's chunks (sha256 checked). 503 when neither this node nor the index can give it.
   */
  ensurePackage(name: string): Promise<void>;
}

/** The write-side handlers whose targets may be known only to another node. */
export interface ScaledOutCommands {
  issueCommand: ReturnType<typeof issueCommand>;
  recordCommandResult: ReturnType<typeof recordCommandResult>;
  deleteAgent: ReturnType<typeof deleteAgent>;
  ingestStateful: ReturnType<typeof ingestStatefulEvents>;
  registerAgent: ReturnType<typeof registerAgent>;
}

/** Which agents hold a stream or a long-poll open on this node (the SSE hub answers). */
export interface ConnectedAgents {
  isConnected(agent: string): boolean;
  isWaiting(agent: string): boolean;
  streamCount(): number;
  waitingCount(): number;
}

export interface ScaleOutDeps {
  journal: Journal;
  hub: ConnectedAgents;
  /** Scale-out's own indexer client (src/clients.ts: the configured URL, TLS and credentials), closed by the root. */
  indexer: IndexerClient;
  /** The local package files: content fetched from the cluster's package store lands there. */
  store: PackageStore;
  onError(message: string, err?: unknown): void;
  /** Commands index polling interval while agents are connected here or commands are open. */
  commandsIntervalMs?: number;
  agentsIntervalMs?: number;
}

/**
 * Scale-out (only with an indexer URL): the followers of the commands index (imports commands for
 * agents connected here, observes states changed on other nodes) and of the agents index (deletions
 * and group changes made on other nodes), the lookups of agents and commands this node does not know
 * yet, and the write-side handlers wrapped with the imports they need (`adapt`).
 */
export function createScaleOut(deps: ScaleOutDeps) {
  const { journal, hub } = deps;
  const db = journal.db;
  const reader = createIndexReader(deps.indexer);
  const positions = createFollowerPositions(db);
  const followCommands = followCommandsIndex(journal);
  const followAgents = followAgentsIndex(journal);
  const here = (agent: string): boolean => hub.isConnected(agent) || hub.isWaiting(agent);

  const commands = createIndexFollower({
    name: 'index:commands',
    changedAfter: (after, size) => reader.changedAfter(COMMANDS_INDEX, after, size, CommandDoc),
    apply: (docs) => followCommands(docs, here),
    positions,
    commit: journal.commit,
    active: () => hub.streamCount() > 0 || hub.waitingCount() > 0 || nextDeadline(db) !== undefined,
    intervalMs: deps.commandsIntervalMs ?? 250,
    onError: (err) => deps.onError('following the commands index failed', err),
  });
  const agents = createIndexFollower({
    name: 'index:agents',
    changedAfter: (after, size) => reader.changedAfter(AGENTS_INDEX, after, size, AgentDoc),
    apply: (docs) => followAgents(docs),
    positions,
    commit: journal.commit,
    active: () => true,
    intervalMs: deps.agentsIntervalMs ?? 1000,
    onError: (err) => deps.onError('following the agents index failed', err),
  });

  const packages = createSharedPackages({ db, commit: journal.commit, store: deps.store, indexer: deps.indexer, onError: deps.onError });
  const packagesFollower = createIndexFollower({
    name: 'index:packages',
    changedAfter: (after, size) => reader.changedAfter(PACKAGES_INDEX, after, size, PackageDoc),
    apply: (docs) => packages.follow(docs),
    positions,
    commit: journal.commit,
    active: () => true,
    intervalMs: deps.agentsIntervalMs ?? 1000,
    onError: (err) => deps.onError('following the packages index failed', err),
  });

  const importOne = importAgent(journal);
  /** The agent's registration in the index; undefined (logged) when the indexer cannot be asked. */
  async function indexedIfReachable(uuid: string): Promise<RegisteredAgentDoc | undefined> {
    const r = await findIndexedAgent(reader, uuid);
    if (r.ok) return r.agent;
    deps.onError(`the indexer cannot be asked about agent ${uuid}; deciding locally`, new Error(r.reason));
    return undefined;
  }
  const importMany = importAgents(journal);
  const MEMBERS_PAGE = 1000;
  /** A group or `all` command: the targets registered on other nodes are imported first (best effort). */
  async function importMembers(group: string | undefined): Promise<void> {
    let after: string | undefined;
    for (;;) {
      const page = await reader.registeredAgents({ size: MEMBERS_PAGE, ...(group !== undefined ? { group } : {}), ...(after !== undefined ? { afterUuid: after } : {}) });
      if (!page.ok) return deps.onError('the indexer cannot be asked about the targets of a command; resolving them locally', new Error(page.reason));
      const docs = page.value.flatMap((d) => (d.doc && !d.doc.deleted && !findAgent(db, d.doc.uuid) ? [d.doc] : []));
      if (docs.length > 0) await importMany(docs);
      if (page.value.length < MEMBERS_PAGE) return;
      after = page.value[page.value.length - 1]!.id;
    }
  }
  const lookups: ScaleOutLookups = {
    async findAgent(uuid) {
      const r = await findIndexedAgent(reader, uuid);
      if (!r.ok) throw new IndexerUnavailableError(`the indexer cannot be asked about agent ${uuid}: ${r.reason}`);
      return r.agent;
    },
    async importAgent(doc) {
      await importOne(doc);
    },
    async admitAgent(uuid, iatMs) {
      const r = await findIndexedAgent(reader, uuid);
      if (!r.ok) {
        deps.onError(`the indexer cannot be asked about agent ${uuid}`, new Error(r.reason));
        return false;
      }
      if (!r.agent || !tokenFitsRegistration(r.agent, iatMs, agentRevokedAt(db, uuid))) return false;
      return Boolean(await importOne(r.agent));
    },
    async ensureAgent(uuid) {
      if (findAgent(db, uuid)) return;
      const doc = await indexedIfReachable(uuid);
      if (doc) await importOne(doc);
    },
    ensurePackage: (name) => packages.ensureContent(name),
    async settleAgent(agent) {
      const open = pendingCommands(db, agent, Date.now()).map((p) => ({ command: p.command.id, agent }));
      const r = await reader.commandTargets(open.slice(0, SETTLE_MAX), SETTLE_TIMEOUT_MS);
      if (!r.ok) return deps.onError(`the indexer cannot be asked about the open commands of agent ${agent}; offering them as known here`, new Error(r.reason));
      // not "connected": a delivery made on another node is observed too (a long-poll must not answer it again)
      if (r.value.length > 0) await followCommands(r.value, () => false);
    },
    async agentConnected(agent) {
      if (!findAgent(db, agent)) return;
      const r = await reader.openTargetsOf(agent, Date.now());
      if (!r.ok) return deps.onError(`the indexer cannot be asked about the commands of agent ${agent}`, new Error(r.reason));
      const docs = r.value.flatMap((d) => (d.doc === undefined ? [] : [d.doc]));
      if (docs.length > 0) await followCommands(docs, () => true);
    },
  };

  /** An `upgrade` naming a package uploaded on another node: its name is imported first (best effort). */
  async function importNamedPackage(cmd: Parameters<ScaledOutCommands['issueCommand']>[0]): Promise<void> {
    const name = (cmd.action.args as { package?: unknown } | undefined)?.package;
    if (cmd.action.name !== 'upgrade' || typeof name !== 'string' || findPackage(db, name)) return;
    try {
      await packages.ensureKnown(name);
    } catch (err) {
      deps.onError(`the cluster's package store cannot be asked about ${name}; deciding locally`, err);
    }
  }

  /** The handlers, preceded by the imports they need: the agent an operator names, the command an agent reports on. */
  function adapt<C extends ScaledOutCommands>(local: C): C {
    return {
      ...local,
      issueCommand: async (cmd, actor) => {
        await importNamedPackage(cmd);
        // bad input writes nothing: the action, target type and args are checked before any import
        decideIssueCommand(cmd, findCatalogEntry(db, cmd.action.name), () => [], { id: asCommandId('check'), now: Date.now(), actor, packageExists: (n) => findPackage(db, n) !== undefined });
        if (cmd.target.type === 'agent' && cmd.target.id) await lookups.ensureAgent(cmd.target.id);
        else if (cmd.target.type === 'group' && cmd.target.id) await importMembers(cmd.target.id);
        else if (cmd.target.type === 'all') await importMembers(undefined);
        return local.issueCommand(cmd, actor);
      },
      // a uuid registered on another node is taken: registering it here would overwrite its key in
      // the index (best effort: registering still works while the indexer is down)
      registerAgent: async (cmd, actor) => {
        if (!findAgent(db, cmd.uuid) && (await indexedIfReachable(cmd.uuid))) {
          throw new DuplicateError(`agent ${cmd.uuid} is already registered (on another node)`);
        }
        return local.registerAgent(cmd, actor);
      },
      deleteAgent: async (uuid, actor) => {
        await lookups.ensureAgent(uuid);
        return local.deleteAgent(uuid, actor);
      },
      recordCommandResult: recordIndexedCommandResult({ ...journal, reader }),
      ingestStateful: ingestIndexedStatefulEvents({ ...journal, reader }, local.ingestStateful),
    };
  }

  return {
    lookups,
    adapt,
    /** Cluster mode's `POST /commands`: the commands index takes a command before it is journaled and answered. */
    commandPublisher: createCommandPublisher({ indexer: deps.indexer }),
    /** Cluster mode's package uploads and deletions: the shared package store takes them before they are journaled. */
    packagePublisher: packages.publisher,
    run$: merge(commands.run$, agents.run$, packagesFollower.run$) as Observable<never>,
    status: () => ({ commands: commands.status(), agents: agents.status(), packages: packagesFollower.status() }),
    /** Stops following (requests still in flight may look things up until the root closes the client). */
    stop(): void {
      commands.stop();
      agents.stop();
      packagesFollower.stop();
    },
  };
}
export type ScaleOut = ReturnType<typeof createScaleOut>;
