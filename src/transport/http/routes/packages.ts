import { createReadStream, openSync } from 'node:fs';
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { PackageName } from '../../../packages/packageStore.js';
import { parseRange } from '../../../packages/range.js';
import { ifNoneMatchHit } from '../../../projections/etag.js';
import type { Role } from '../../../security/tokens.js';
import { principalOf } from '../auth.js';
import { requireContentType } from '../body.js';
import type { HttpDeps } from '../deps.js';
import { HttpError } from '../problem.js';
import { describe } from '../routeDocs.js';
import { BASE_PATH } from '../basePath.js';

const NameParams = z.object({ name: PackageName });
const FilesQuery = z.object({ file_name: PackageName });
export const PackageResponse = z.object({ name: z.string(), size: z.number().int(), sha256: z.string() });
const PackageList = z.object({
  packages: z.array(PackageResponse.extend({ uploaded_at: z.string(), uploaded_by: z.string() })),
});
export const PACKAGE_TYPES = ['application/octet-stream'];

const download = {
  200: { description: 'the whole package', binary: true, contentType: 'application/octet-stream', headers: { ETag: '"<sha256>"', 'Accept-Ranges': 'bytes' } },
  206: { description: 'the requested byte range', binary: true, contentType: 'application/octet-stream', headers: { 'Content-Range': 'bytes start-end/size' } },
  304: { description: 'If-None-Match names the current content' },
  404: { description: 'no package of that name' },
  416: { description: 'the range starts past the end (`Content-Range: bytes */size`)' },
  503: { description: 'cluster mode: the package is not on this node and the shared package store cannot give it now (`Retry-After`)' },
};
const downloadHeaders = [
  { name: 'Range', description: 'one byte range: bytes=a-b, bytes=a- or bytes=-n' },
  { name: 'If-None-Match', description: 'the ETag the agent has' },
  { name: 'If-Range', description: 'the ETag the range refers to' },
];

describe({
  method: 'put',
  path: '/packages/:name',
  tags: ['packages'],
  auth: ['operator'],
  summary: 'Upload a package (streamed)',
  description:
    'The body is stored as sent; its size is limited by COMMS_API_MAX_PACKAGE_BYTES (default 1 GiB). In cluster mode ' +
    '(an indexer URL) the answer comes once the content (1 MiB chunks) and the name are also in the shared package ' +
    'store in OpenSearch, so every node serves it; 503 with `Retry-After` when that store cannot take it (nothing is changed).',
  params: NameParams,
  body: { contentTypes: PACKAGE_TYPES, binary: true },
  responses: {
    200: { description: 'replaced an existing package', schema: PackageResponse },
    201: { description: 'a new package', schema: PackageResponse },
    503: { description: "cluster mode: the cluster's package store did not take it (`Retry-After`); nothing changed" },
  },
});
describe({
  method: 'get',
  path: '/packages',
  tags: ['packages'],
  auth: ['operator', 'auditor'],
  summary: 'The stored packages',
  responses: { 200: { description: 'every package', schema: PackageList } },
});
describe({
  method: 'delete',
  path: '/packages/:name',
  tags: ['packages'],
  auth: ['operator'],
  summary: 'Delete a package (its content goes when no other name uses it)',
  description: 'Agents asking for it afterwards get 404; an `upgrade` naming it is then 400 (in cluster mode on every node, within ~2 s).',
  params: NameParams,
  responses: { 204: { description: 'deleted' }, 503: { description: "cluster mode: the cluster's package store did not take the deletion (`Retry-After`); nothing changed" } },
});
describe({
  method: 'get',
  path: '/upgrade/:name',
  tags: ['packages'],
  auth: ['agent'],
  summary: 'Download a package (Range supported)',
  params: NameParams,
  headers: downloadHeaders,
  responses: download,
});
describe({
  method: 'get',
  path: '/files',
  tags: ['packages'],
  auth: ['agent'],
  summary: 'Download a package (compatibility path of /upgrade/{name})',
  query: FilesQuery,
  headers: downloadHeaders,
  responses: download,
});

/** The ports these routes use, bound once by the composition root (main.ts passes its HttpDeps). */
export type PackagesRouteDeps = Pick<HttpDeps, 'scaleOut'> & {
  commands: Pick<HttpDeps['commands'], 'deletePackage' | 'storePackage'>;
  config: Pick<HttpDeps['config'], 'maxPackageBytes'>;
  packages: Pick<HttpDeps['packages'], 'blobPath' | 'blobSize'>;
  reads: Pick<HttpDeps['reads'], 'findPackage' | 'listPackages'>;
};

export function packagesRoutes(deps: PackagesRouteDeps, guard: (...roles: Role[]) => Middleware[]): Router {
  const router = new Router();

  router.put('/packages/:name', ...guard('operator'), async (ctx) => {
    const { name } = NameParams.parse(ctx.params);
    requireContentType(ctx, PACKAGE_TYPES);
    const limit = deps.config.maxPackageBytes;
    if (Number(ctx.get('Content-Length') || 0) > limit) {
      ctx.set('Connection', 'close');
      throw new HttpError(413, 'Content Too Large', `a package is limited to ${limit} bytes`);
    }
    let stored;
    try {
      stored = await deps.commands.storePackage(name, ctx.req as AsyncIterable<Buffer>, limit, principalOf(ctx).actor);
    } catch (err) {
      if (ctx.req.destroyed && !ctx.req.complete) throw new HttpError(400, 'Bad Request', 'the upload was interrupted');
      throw err;
    }
    ctx.status = stored.created ? 201 : 200;
    if (stored.created) ctx.set('Location', `${BASE_PATH}/upgrade/${encodeURIComponent(name)}`);
    ctx.body = { name: stored.name, size: stored.size, sha256: stored.sha256 };
  });

  router.delete('/packages/:name', ...guard('operator'), async (ctx) => {
    const { name } = NameParams.parse(ctx.params);
    await deps.commands.deletePackage(name, principalOf(ctx).actor);
    ctx.status = 204;
  });

  router.get('/packages', ...guard('operator', 'auditor'), (ctx) => {
    ctx.body = { packages: deps.reads.listPackages() };
  });

  router.get('/upgrade/:name', ...guard('agent'), async (ctx) => {
    await sendPackage(ctx, deps, NameParams.parse(ctx.params).name);
  });

  router.get('/files', ...guard('agent'), async (ctx) => {
    await sendPackage(ctx, deps, FilesQuery.parse(ctx.query).file_name);
  });

  return router;
}

/**
 * Streams a stored package: ETag = "<sha256>", Range → 206, unsatisfiable → 416, If-None-Match → 304.
 * In cluster mode a package this node does not hold yet is fetched from the shared store first.
 */
async function sendPackage(ctx: Context, deps: PackagesRouteDeps, name: PackageName): Promise<void> {
  const local = deps.reads.findPackage(name);
  if (deps.scaleOut && (!local || deps.packages.blobSize(local.sha256) === undefined)) await deps.scaleOut.ensurePackage(name);
  const pkg = deps.reads.findPackage(name);
  const size = pkg && deps.packages.blobSize(pkg.sha256);
  if (!pkg || size === undefined) throw new HttpError(404, 'Not Found', `no package named ${name}`);
  const etag = `"${pkg.sha256}"`;
  ctx.set('ETag', etag);
  ctx.set('Accept-Ranges', 'bytes');
  ctx.set('Cache-Control', 'no-cache');
  const inm = ctx.get('If-None-Match');
  if (inm && ifNoneMatchHit(inm, etag)) {
    ctx.status = 304;
    return;
  }
  const ifRange = ctx.get('If-Range');
  const range = ifRange && ifRange !== etag ? ({ kind: 'full' } as const) : parseRange(ctx.get('Range'), size);
  if (range.kind === 'unsatisfiable') {
    throw new HttpError(416, 'Range Not Satisfiable', `the package has ${size} bytes`, {}, { 'Content-Range': `bytes */${size}` });
  }
  // Opened now, not when the stream starts: a replacement collecting the old content cannot race us.
  let fd: number;
  try {
    fd = openSync(deps.packages.blobPath(pkg.sha256), 'r');
  } catch {
    throw new HttpError(404, 'Not Found', `no package named ${name}`);
  }
  ctx.attachment(name);
  ctx.type = 'application/octet-stream';
  if (range.kind === 'partial') {
    ctx.status = 206;
    ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
    ctx.body = createReadStream('', { fd, start: range.start, end: range.end });
    ctx.length = range.end - range.start + 1;
  } else {
    ctx.body = createReadStream('', { fd });
    ctx.length = size;
  }
}
