import type { Db } from '../journal/database.js';
import type { Projection } from '../journal/groupCommit.js';
import { createAgentsProjection } from './agentsProjection.js';
import { createCatalogProjection } from './catalogProjection.js';
import { createCommandsProjection } from './commandsProjection.js';
import { createGroupsProjection } from './groupsProjection.js';
import { createPackagesProjection } from './packagesProjection.js';
import { createIdempotencyProjection } from './idempotencyProjection.js';
import { createUsersProjection } from './usersProjection.js';
import { createAuditProjection } from './auditProjection.js';
import { createStatefulBatchesProjection } from './statefulBatchesProjection.js';

/** Every read model, in the order they are applied to each entry. */
export function createProjections(db: Db): Projection[] {
  return [createAgentsProjection(db), createUsersProjection(db), createIdempotencyProjection(db), createGroupsProjection(db), createPackagesProjection(db), createCatalogProjection(db), createCommandsProjection(db), createStatefulBatchesProjection(db), createAuditProjection(db)];
}
