import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { checkArgs, InvalidArgsError } from '../catalog/argsSchema.js';
import type { Db } from '../journal/database.js';
import type { Entry, EntryOf } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import { asCommandId, GroupName, type CommandId } from '../journal/ids.js';
import { findCatalogEntry, type CatalogEntryDto } from '../projections/catalogReads.js';
import { agentExists, allAgents, groupMembers } from '../projections/commandsReads.js';
import { findPackage } from '../projections/packagesReads.js';
import { MAX_TIMEOUT_SECONDS, TargetType } from './putCatalogEntry.js';
import { StatusError } from '../errors.js';

export class UnknownActionError extends StatusError {
  readonly status = 404;
}
/** The target is not allowed for this action, or resolves to no agent. */
export class InvalidTargetError extends StatusError {
  readonly status = 400;
}

/** The body of `POST /commands`. */
export const IssueCommand = z.object({
  action: z.object({
    name: z.string().min(1).max(64),
    args: z.unknown().optional(),
    version: z.string().min(1).max(64).optional(),
  }),
  target: z.object({ type: TargetType, id: z.string().min(1).max(64).optional() }),
  timeout: z.number().int().min(1).max(MAX_TIMEOUT_SECONDS).optional(),
});
export type IssueCommand = z.infer<typeof IssueCommand>;

export interface IssuedCommand {
  id: CommandId;
  targets: number;
  issued_at: string;
  expires_at: string;
  /** `journaled`: in this node's journal (one node); `indexed`: also in the shared commands index (cluster mode). */
  durability: 'journaled' | 'indexed';
}

export type Publication = { ok: true } | { ok: false; reason: string };

/**
 * Cluster mode (a port scale-out implements): the shared commands index, where an issued command
 * must be before it is acknowledged, so any node can deliver it even if this one dies.
 */
export interface CommandPublisher {
  /** Writes the command's documents; resolves within a bounded time, refused or not. */
  publish(issued: EntryOf<'CommandIssued'>, time: number): Promise<Publication>;
  /** The journal refused a published command: its documents are marked cancelled (best effort). */
  retract(issued: EntryOf<'CommandIssued'>, reason: string): Promise<void>;
}

/** Cluster mode: the commands index did not take the command in time; it was cancelled, nothing goes out. */
export class CommandNotDurableError extends StatusError {
  readonly status = 503;
  override readonly headers = { 'Retry-After': '5' };
  override readonly problem: Record<string, unknown>;
  constructor(id: CommandId, reason: string) {
    super(`the commands index did not take command ${id} (${reason}); it was cancelled and will not be delivered: issue it again`);
    this.problem = { command: id, cancelled: true };
  }
}

export const DEFAULT_ACTION_VERSION = '1';
const SetGroupArgs = z.object({ groups: z.array(GroupName).max(128) });

let counter = 0;
/** Sortable unique ids: milliseconds (base 36, fixed width), a per-process counter, randomness. */
export function newCommandId(now: number): CommandId {
  counter = (counter + 1) % 36 ** 4;
  return asCommandId(`${now.toString(36).padStart(9, '0')}-${counter.toString(36).padStart(4, '0')}${randomBytes(4).toString('hex')}`);
}

/** The agents a target names, read when the command is issued (a group is expanded to its members). */
export type ResolveTarget = (target: IssueCommand['target']) => string[];

/**
 * Pure decision: the action must be in the catalogue, the target type allowed by it, the args
 * valid against its schema, and the target must name at least one registered agent.
 * A `set-group` command also replaces each target's groups (AgentGroupsChanged), at issue time.
 */
export function decideIssueCommand(
  cmd: IssueCommand,
  def: CatalogEntryDto | undefined,
  resolve: ResolveTarget,
  at: { id: CommandId; now: number; actor: string; packageExists?: (name: string) => boolean },
): Entry[] {
  if (!def) throw new UnknownActionError(`no action "${cmd.action.name}" in the catalogue`);
  if (!def.target_types.includes(cmd.target.type)) {
    throw new InvalidTargetError(`"${def.name}" cannot target ${cmd.target.type}; allowed: ${def.target_types.join(', ')}`);
  }
  const args = cmd.action.args ?? {};
  checkArgs(def.args, args);
  if (at.packageExists) checkPackage(def.name, args, at.packageExists);
  const agents = resolve(cmd.target);
  const timeout = cmd.timeout ?? def.default_timeout;
  const target = cmd.target.type === 'all' ? { type: 'all' as const } : cmd.target;
  const issued: Entry = {
    type: 'CommandIssued',
    stream: at.id,
    actor: at.actor,
    data: {
      id: at.id,
      action: { name: def.name, args, version: cmd.action.version ?? DEFAULT_ACTION_VERSION },
      target,
      agents,
      issuedAt: at.now,
      expiresAt: at.now + timeout * 1000,
    },
  };
  if (def.name !== 'set-group') return [issued];
  // The catalogue entry may have been redefined: the membership change needs its own check.
  const groups = SetGroupArgs.safeParse(args);
  if (!groups.success) {
    const issue = groups.error.issues[0]!;
    const field = ['action.args', ...issue.path.map(String)].join('.');
    throw new InvalidArgsError(`${field}: ${issue.message}`, [{ field, message: issue.message }]);
  }
  return [issued, ...agents.map((uuid): Entry => ({ type: 'AgentGroupsChanged', stream: uuid, actor: at.actor, data: { uuid, groups: [...new Set(groups.data.groups)] } }))];
}

/** An `upgrade` must name a package of the store (`args.package`): 400 naming the field otherwise. */
function checkPackage(action: string, args: unknown, exists: (name: string) => boolean): void {
  if (action !== 'upgrade') return;
  const name = (args as { package?: unknown }).package;
  if (typeof name !== 'string' || exists(name)) return;
  const message = `no package "${name}" in the package store (upload it first: PUT /packages/{name})`;
  throw new InvalidArgsError(`action.args.package: ${message}`, [{ field: 'action.args.package', message }]);
}

/** Target → agents, from the read models. */
export function createTargetResolver(db: Db): ResolveTarget {
  return (target) => {
    switch (target.type) {
      case 'agent': {
        if (!target.id) throw new InvalidTargetError('target.id: an agent target needs the agent uuid');
        if (!agentExists(db, target.id)) throw new InvalidTargetError(`target.id: agent ${target.id} is not registered`);
        return [target.id];
      }
      case 'group': {
        if (!target.id) throw new InvalidTargetError('target.id: a group target needs the group name');
        const name = GroupName.safeParse(target.id);
        const members = name.success ? groupMembers(db, name.data) : [];
        if (members.length === 0) throw new InvalidTargetError(`target.id: group ${target.id} has no members`);
        return members;
      }
      case 'all': {
        const agents = allAgents(db);
        if (agents.length === 0) throw new InvalidTargetError('target: no agent is registered');
        return agents;
      }
      default: {
        const _exhaustive: never = target.type;
        return _exhaustive;
      }
    }
  };
}

/**
 * Pure decision (cluster mode): a command the commands index did not take is journaled as issued
 * and cancelled at once (actor `system`, with the reason), so the history says what was tried and
 * no node ever offers it. A `set-group` refused so changes no group.
 */
export function decideRefusedCommand(issued: EntryOf<'CommandIssued'>, reason: string): Entry[] {
  const { id, agents } = issued.data;
  return [issued, ...agents.map((agent): Entry => ({ type: 'CommandCancelled', stream: id, actor: 'system', data: { id, agent, reason } }))];
}

const answer = (d: EntryOf<'CommandIssued'>['data'], durability: IssuedCommand['durability']): IssuedCommand => ({
  id: asCommandId(d.id),
  targets: d.agents.length,
  issued_at: new Date(d.issuedAt).toISOString(),
  expires_at: new Date(d.expiresAt).toISOString(),
  durability,
});

/**
 * IssueCommand. On one node the command is journaled and answered (`journaled`). With a
 * `publisher` (cluster mode) it is decided first, its documents are written to the commands index,
 * and only then journaled and answered (`indexed`): a node killed after answering cannot keep it
 * from the agents. A refusal is journaled as a cancelled command and answered 503.
 */
export function issueCommand(deps: { db: Db; commit: GroupCommit; publisher?: CommandPublisher; now?: () => number }) {
  const resolve = createTargetResolver(deps.db);
  const packageExists = (name: string) => findPackage(deps.db, name) !== undefined;
  const decide = (cmd: IssueCommand, actor: string, now: number): Entry[] =>
    decideIssueCommand(cmd, findCatalogEntry(deps.db, cmd.action.name), resolve, { id: newCommandId(now), now, actor, packageExists });
  const { publisher } = deps;
  if (!publisher) {
    return (cmd: IssueCommand, actor: string): Promise<IssuedCommand> =>
      deps.commit.run((tx) => {
        const [issued] = decide(cmd, actor, tx.now).map(tx.append);
        return answer((issued as EntryOf<'CommandIssued'>).data, 'journaled');
      });
  }
  const now = deps.now ?? Date.now;
  return async (cmd: IssueCommand, actor: string): Promise<IssuedCommand> => {
    const entries = decide(cmd, actor, now());
    const issued = entries[0] as EntryOf<'CommandIssued'>;
    const published = await publisher.publish(issued, issued.data.issuedAt);
    if (!published.ok) {
      await deps.commit.run((tx) => decideRefusedCommand(issued, published.reason).forEach(tx.append));
      throw new CommandNotDurableError(issued.data.id as CommandId, published.reason);
    }
    try {
      await deps.commit.run((tx) => entries.forEach(tx.append));
    } catch (err) {
      await publisher.retract(issued, `the journal of the issuing node refused it: ${(err as Error).message}`);
      throw err;
    }
    return answer(issued.data, 'indexed');
  };
}
