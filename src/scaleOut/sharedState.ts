import { merge, type Observable } from 'rxjs';
import type { ZodType } from 'zod';
import { compileArgsSchema } from '../catalog/argsSchema.js';
import { decideCreateApiKey, decideRevokeApiKey, hashApiKey, newApiKey, type createApiKey, type revokeApiKey } from '../commands/apiKeys.js';
import { decideCreateUser, type createUser } from '../commands/createUser.js';
import type { issueCommand } from '../commands/issueCommand.js';
import type { putCatalogEntry } from '../commands/putCatalogEntry.js';
import { decidePutGroupConfiguration, PreconditionFailedError, type putGroupConfiguration } from '../commands/putGroupConfiguration.js';
import { decideUserChange, type userLifecycle } from '../commands/userLifecycle.js';
import { createFollowerPositions } from '../journal/followerPositions.js';
import type { Journal } from '../journal/journal.js';
import { createIndexReader } from '../indexer/indexedDocs.js';
import type { IndexerClient } from '../indexer/indexerClient.js';
import { ApiKeyDoc, CatalogDoc, GroupDoc, UserDoc, type LiveUserDoc, type Versioned } from '../indexer/sharedDocs.js';
import { API_KEYS_INDEX, CATALOG_INDEX, GROUPS_INDEX, USERS_INDEX } from '../indexer/templates.js';
import { findCatalogEntry } from '../projections/catalogReads.js';
import { contentEtag } from '../projections/etag.js';
import { groupConfiguration } from '../projections/groupsReads.js';
import { findApiKey, findUser } from '../projections/usersReads.js';
import { hashSecret } from '../security/secrets.js';
import { apiKeyDocOf, userDocOf } from './followSharedDocs.js';
import { createIndexFollower } from './indexFollower.js';
import { createUsersPublisher } from './publishLocalUsers.js';
import { conditionOn, CONFLICT, createSharedStore, docOf } from './sharedStore.js';
import { IndexerUnavailableError } from './recordIndexedCommandResult.js';

/** The write-side handlers whose state the cluster shares through the indexer. */
export interface SharedCommands {
  createUser: ReturnType<typeof createUser>;
  userLifecycle: ReturnType<typeof userLifecycle>;
  createApiKey: ReturnType<typeof createApiKey>;
  revokeApiKey: ReturnType<typeof revokeApiKey>;
  putCatalogEntry: ReturnType<typeof putCatalogEntry>;
  putGroupConfiguration: ReturnType<typeof putGroupConfiguration>;
  issueCommand: ReturnType<typeof issueCommand>;
}

/** A user read from the users index, with the version it was read at. */
export type IndexedUser = Versioned<LiveUserDoc> & { doc: LiveUserDoc };

/** What logins and token checks ask of the users index (cluster mode). */
export interface SharedUserLookups {
  /** The user as the users index has it (undefined: unknown or deleted); 503 when the indexer cannot be asked. */
  findUser(name: string): Promise<IndexedUser | undefined>;
  /** Its password verified: the user becomes known here (journaled by the actor `indexer`). */
  importUser(user: IndexedUser): Promise<void>;
  /** A token of a user unknown here: imports the user when the index has it enabled; whether it is known now. */
  admitUser(name: string): Promise<boolean>;
  /** An API key unknown here: imported when the API keys index has it (revoked or not); whether it is known now. */
  admitApiKey(id: string): Promise<boolean>;
}

export interface SharedStateDeps {
  journal: Journal;
  indexer: IndexerClient;
  onError(message: string, err?: unknown): void;
  /** How often each shared index is polled (default 500 ms). */
  intervalMs?: number;
  /** How often users changed in the data folder by the CLI are looked for (default 2 s). */
  publishIntervalMs?: number;
  now?: () => number;
}

/**
 * Cluster mode (an indexer URL): users (role, password hash, disabled, deleted), catalogue
 * entries and group configurations live in `comms-users`, `comms-catalog` and `comms-groups`, one
 * document each. A change made through this node reads the document (real-time get), journals
 * what it learns from it (actor `indexer`), decides against that, writes the document —
 * conditioned on the version read (`if_seq_no`/`if_primary_term`, or `op_type=create`) — and
 * only then journals the change itself; an indexer that cannot be asked or written is 503 and
 * nothing of the change is journaled. Every node follows the three indices by `_seq_no` and
 * journals, by `indexer`, what makes its read models equal to them.
 */
export function createSharedState(deps: SharedStateDeps) {
  const { journal } = deps;
  const now = deps.now ?? Date.now;
  const store = createSharedStore(deps);
  const { db, docs, locks, seen, read, written, learnUsers, learnApiKeys, learnCatalog, learnGroups, changeUser } = store;
  const reader = createIndexReader(deps.indexer);
  const positions = createFollowerPositions(db);
  const publisher = createUsersPublisher(store, { ...(deps.publishIntervalMs !== undefined ? { intervalMs: deps.publishIntervalMs } : {}), now, onError: deps.onError });

  function adapt<C extends SharedCommands>(local: C): C {
    return {
      ...local,
      createUser: async (cmd, actor) => {
        const hash = await hashSecret(cmd.password);
        return changeUser(cmd.name, async (current) => {
          const disabled = findUser(db, cmd.name)?.disabled === 1;
          const doc = userDocOf(cmd.name, { role: cmd.role, passwordHash: hash, disabled }, now(), actor);
          if (!(await written(`user ${cmd.name}`, seen.users, cmd.name, () => docs.putUser(doc, conditionOn(current))))) return CONFLICT;
          await journal.commit.run((tx) => decideCreateUser(cmd, hash, actor).forEach(tx.append));
          return { name: cmd.name, role: cmd.role };
        });
      },
      userLifecycle: (name, change, actor) =>
        changeUser(name, async (current) => {
          const user = findUser(db, name);
          const entries = decideUserChange(user, name, change, actor);
          if (entries.length === 0 || !user) return 0;
          const after = change === 'delete' ? 'deleted' : { role: user.role, passwordHash: user.password_hash, disabled: change === 'disable' };
          if (!(await written(`user ${name}`, seen.users, name, () => docs.putUser(userDocOf(name, after, now(), actor), conditionOn(current))))) return CONFLICT;
          return journal.commit.run((tx) => (entries.forEach(tx.append), entries.length));
        }),
      // the key is made here, its hash written to the index (never to exist twice: op_type=create), then journaled
      createApiKey: (cmd, actor) =>
        locks.apiKeys(async () => {
          const { id, key } = newApiKey();
          const keyHash = hashApiKey(key);
          const doc = apiKeyDocOf({ id, name: cmd.name, role: cmd.role, keyHash }, now(), actor);
          if (!(await written(`API key ${id}`, seen.apiKeys, id, () => docs.putApiKey(doc, { create: true })))) {
            throw new IndexerUnavailableError(`API key id ${id} exists already; try again`);
          }
          await journal.commit.run((tx) => decideCreateApiKey(cmd, id, keyHash, actor).forEach(tx.append));
          return { id, key, name: cmd.name, role: cmd.role };
        }),
      revokeApiKey: (id, actor) =>
        locks.apiKeys(async () => {
          for (let attempt = 0; ; attempt++) {
            const current = await read(`API key ${id}`, docs.apiKey(id));
            await learnApiKeys(docOf(current));
            const entries = decideRevokeApiKey(findApiKey(db, id), id, actor);
            if (entries.length === 0) return;
            const doc = current?.doc ? { ...current.doc, created_at: new Date(current.doc.created_at).toISOString(), revoked_at: new Date(now()).toISOString() } : undefined;
            const row = findApiKey(db, id)!;
            const next = doc ?? { ...apiKeyDocOf({ id, name: row.name, role: row.role, keyHash: row.key_hash }, row.created_at, row.created_by), revoked_at: new Date(now()).toISOString() };
            if (await written(`API key ${id}`, seen.apiKeys, id, () => docs.putApiKey(next, conditionOn(current)))) {
              return void (await journal.commit.run((tx) => entries.forEach(tx.append)));
            }
            if (attempt >= 3) throw new IndexerUnavailableError(`API key ${id} keeps changing on other nodes; try again`);
          }
        }),
      putCatalogEntry: async (name, cmd, actor) => {
        compileArgsSchema(cmd.args); // bad input writes nothing, anywhere
        return locks.catalog(async () => {
          const doc = { name, description: cmd.description, args: cmd.args, default_timeout: cmd.default_timeout, target_types: cmd.target_types, updated_at: new Date(now()).toISOString(), updated_by: actor };
          await written(`catalogue entry ${name}`, seen.catalog, name, () => docs.putCatalogEntry(doc));
          return local.putCatalogEntry(name, cmd, actor);
        });
      },
      putGroupConfiguration: (cmd, actor) =>
        locks.groups(async () => {
          const current = await read(`group ${cmd.group}`, docs.group(cmd.group));
          await learnGroups(docOf(current));
          const entries = decidePutGroupConfiguration(groupConfiguration(db, cmd.group), cmd, actor);
          const etag = contentEtag(cmd.configuration);
          if (entries.length === 0) return { etag, changed: false };
          const doc = { group: cmd.group, configuration: cmd.configuration, etag, updated_at: new Date(now()).toISOString(), updated_by: actor };
          if (!(await written(`group ${cmd.group}`, seen.groups, cmd.group, () => docs.putGroup(doc, conditionOn(current))))) {
            // another node wrote first: its version is the current one (412 names it)
            const latest = await read(`group ${cmd.group}`, docs.group(cmd.group));
            await learnGroups(docOf(latest));
            throw new PreconditionFailedError(groupConfiguration(db, cmd.group).etag);
          }
          await journal.commit.run((tx) => entries.forEach(tx.append));
          return { etag, changed: true };
        }),
      // an action defined on another node that this one has not followed yet (best effort)
      issueCommand: async (cmd, actor) => {
        if (!findCatalogEntry(db, cmd.action.name)) {
          await locks.catalog(async () => {
            const r = await docs.catalogEntry(cmd.action.name);
            if (r.ok) await learnCatalog(docOf(r.value));
            else deps.onError(`the indexer cannot be asked about action ${cmd.action.name}; deciding locally`, new Error(r.reason));
          });
        }
        return local.issueCommand(cmd, actor);
      },
    };
  }

  const lookups: SharedUserLookups = {
    async admitApiKey(id) {
      const r = await docs.apiKey(id);
      if (!r.ok) {
        deps.onError(`the indexer cannot be asked about API key ${id}`, new Error(r.reason));
        return false;
      }
      if (!r.value?.doc) return false;
      await locks.apiKeys(() => learnApiKeys([r.value!]));
      return findApiKey(db, id) !== undefined;
    },
    async findUser(name) {
      const found = await read(`user ${name}`, docs.user(name));
      const doc = found?.doc;
      return found && doc && !doc.deleted ? { ...found, doc } : undefined;
    },
    async importUser(user) {
      await locks.users(() => learnUsers([user]));
    },
    async admitUser(name) {
      const r = await docs.user(name);
      if (!r.ok) {
        deps.onError(`the indexer cannot be asked about user ${name}`, new Error(r.reason));
        return false;
      }
      const doc = r.value?.doc;
      if (!doc || doc.deleted || doc.disabled) return false;
      await locks.users(() => learnUsers([r.value!]));
      return findUser(db, name) !== undefined;
    },
  };

  /** A follower whose documents keep their `_seq_no` (for `learn`). */
  const follow = <T>(name: string, index: string, schema: ZodType<T>, apply: (docs: Versioned<T>[]) => Promise<unknown>, active = () => true) =>
    createIndexFollower<Versioned<T>>({
      name: `index:${name}`,
      changedAfter: async (after, size) => {
        const r = await reader.changedAfter(index, after, size, schema);
        if (!r.ok) return r;
        return { ok: true, value: r.value.map((d) => ({ ...d, doc: d.doc === undefined ? undefined : { doc: d.doc, seqNo: d.seqNo, primaryTerm: 0 } })) };
      },
      apply,
      positions,
      commit: journal.commit,
      active,
      intervalMs: deps.intervalMs ?? 500,
      onError: (err) => deps.onError(`following the ${name} index failed`, err),
    });
  const followers = {
    // after this node's own users were offered to the index once (they must not be undone by an older tombstone)
    users: follow('users', USERS_INDEX, UserDoc, (d) => locks.users(() => learnUsers(d)), publisher.firstPassTried),
    apiKeys: follow('api-keys', API_KEYS_INDEX, ApiKeyDoc, (d) => locks.apiKeys(() => learnApiKeys(d))),
    catalog: follow('catalog', CATALOG_INDEX, CatalogDoc, (d) => locks.catalog(() => learnCatalog(d))),
    groups: follow('groups', GROUPS_INDEX, GroupDoc, (d) => locks.groups(() => learnGroups(d))),
  };

  return {
    adapt,
    lookups,
    run$: merge(publisher.run$, ...Object.values(followers).map((f) => f.run$)) as Observable<never>,
    status: () => ({ users: followers.users.status(), api_keys: followers.apiKeys.status(), catalog: followers.catalog.status(), groups: followers.groups.status() }),
    stop(): void {
      publisher.stop();
      for (const f of Object.values(followers)) f.stop();
    },
  };
}
export type SharedState = ReturnType<typeof createSharedState>;
