import type { z } from 'zod';
import type { Role } from '../../security/tokens.js';

/**
 * The route description registry: each route file declares its routes next to them with
 * `describe({...})`, using the same zod schemas the handlers validate with. The OpenAPI document
 * (openapi.ts) is generated from this registry, and a test checks that it and the router agree.
 *
 *   describe({ method: 'put', path: '/groups/:group/configuration', auth: ['operator'],
 *              summary: 'Replace a group configuration', params: GroupParams,
 *              body: { schema: GroupConfiguration }, responses: { 200: { description: 'stored', schema: X } } });
 *
 * `path` is written as the router writes it (`:param`), relative to /api/v1 unless `basePath: false`.
 * Error responses (400/401/403/404/413/415/429/503 as problem+json) are added from what the route
 * declares (auth, params, body); list more under `responses` when the route has others (409, 412...).
 */
export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ResponseDoc {
  description: string;
  /** JSON body schema; omit for an empty body. */
  schema?: z.ZodType;
  /** Default application/json (or problem+json for 4xx/5xx). `binary: true` documents raw bytes. */
  contentType?: string;
  binary?: boolean;
  headers?: Record<string, string>;
}

export interface BodyDoc {
  /** The zod schema of a JSON body; omit for non-JSON bodies (NDJSON, binary). */
  schema?: z.ZodType;
  /** Accepted media types; default ['application/json']. */
  contentTypes?: string[];
  /** Documented as a byte string (packages) or text lines (NDJSON). */
  binary?: boolean;
  description?: string;
}

export interface HeaderDoc {
  name: string;
  description: string;
  required?: boolean;
  schema?: z.ZodType;
}

export interface RouteDoc {
  method: Method;
  path: string;
  summary: string;
  description?: string;
  tags?: string[];
  /** 'anyone', or the roles allowed (a Bearer token is then required). */
  auth: 'anyone' | Role[];
  /** The token is needed only from some callers (GET /metrics: not from loopback). */
  authOptional?: boolean;
  params?: z.ZodObject;
  query?: z.ZodObject;
  headers?: HeaderDoc[];
  body?: BodyDoc;
  responses: Record<number, ResponseDoc>;
  /** false for routes outside /api/v1 (GET /metrics). */
  basePath?: boolean;
  /** Default: from the method and path (give one when two paths would collide, as /agents and /api/v1/agents). */
  operationId?: string;
}

const registry = new Map<string, RouteDoc>();
const keyOf = (method: string, path: string, basePath = true) => `${method.toUpperCase()} ${basePath ? '' : '!'}${path}`;

/** Declares (or re-declares: the last one wins) one route. */
export function describe(doc: RouteDoc): void {
  registry.set(keyOf(doc.method, doc.path, doc.basePath ?? true), doc);
}

/**
 * A describer for the routes of one tag: `const doc = describeTag('groups');` then
 * `doc('get', '/groups', { auth, summary, responses })`, the method, path and tag written once.
 */
export function describeTag(tag: string) {
  return (method: Method, path: string, rest: Omit<RouteDoc, 'method' | 'path' | 'tags'>): void =>
    describe({ method, path, tags: [tag], ...rest });
}

/** Every declared route, sorted by path then method. */
export function describedRoutes(): RouteDoc[] {
  return [...registry.values()].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}

/** The full path as the router sees it. */
export function fullPath(doc: RouteDoc, base: string): string {
  return doc.basePath === false ? doc.path : `${base}${doc.path}`;
}
