import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { checkArgs, InvalidArgsError } from '../catalog/argsSchema.js';
import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
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

export function issueCommand(deps: { db: Db; commit: GroupCommit }) {
  const resolve = createTargetResolver(deps.db);
  const packageExists = (name: string) => findPackage(deps.db, name) !== undefined;
  return (cmd: IssueCommand, actor: string): Promise<IssuedCommand> =>
    deps.commit.run((tx) => {
      const id = newCommandId(tx.now);
      const def = findCatalogEntry(deps.db, cmd.action.name);
      const [issued] = decideIssueCommand(cmd, def, resolve, { id, now: tx.now, actor, packageExists }).map(tx.append);
      const d = (issued as Extract<typeof issued, { type: 'CommandIssued' }>).data;
      return { id, targets: d.agents.length, issued_at: new Date(d.issuedAt).toISOString(), expires_at: new Date(d.expiresAt).toISOString() };
    });
}
