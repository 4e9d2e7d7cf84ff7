import { z } from 'zod';
import { describedRoutes, type RouteDoc } from './routeDocs.js';

type JsonSchema = Record<string, unknown>;

/** The problem+json body every error has. */
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  errors: z.array(z.record(z.string(), z.unknown())).optional(),
});

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  delete json.$schema;
  return json;
}

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

/** Error responses implied by what the route declares. */
function impliedErrors(doc: RouteDoc): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const hasInput = doc.params || doc.query || doc.body || doc.headers?.length;
  if (hasInput) out['400'] = problem('Invalid input (the `errors` member names the fields)');
  if (doc.auth !== 'anyone') {
    out['401'] = problem('Missing, invalid, expired or revoked token');
    out['403'] = problem(`The token's role is not ${doc.auth.join(' or ')}`);
  }
  if (doc.params) out['404'] = problem('Unknown resource');
  if (doc.body) {
    out['413'] = problem('The body is too large');
    out['415'] = problem('Wrong Content-Type');
  }
  if (doc.method !== 'get') out['503'] = problem('Journal full or shutting down (`Retry-After`)');
  return out;
}

function response(status: number, r: RouteDoc['responses'][number]): unknown {
  const headers = r.headers
    ? Object.fromEntries(Object.entries(r.headers).map(([k, d]) => [k, { description: d, schema: { type: 'string' } }]))
    : undefined;
  const type = r.contentType ?? (status >= 400 ? 'application/problem+json' : 'application/json');
  let content: unknown;
  if (r.binary) content = { [type]: { schema: { type: 'string', contentMediaType: type } } };
  else if (r.schema) content = { [type]: { schema: schemaOf(r.schema, 'output') } };
  else if (status >= 400) content = { [type]: { schema: { $ref: '#/components/schemas/Problem' } } };
  return { description: r.description, ...(headers ? { headers } : {}), ...(content ? { content } : {}) };
}

function parameters(doc: RouteDoc): unknown[] {
  const out: unknown[] = [];
  const add = (where: 'path' | 'query', obj: z.ZodObject | undefined) => {
    if (!obj) return;
    const json = schemaOf(obj, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, schema] of Object.entries(json.properties ?? {})) {
      const required = where === 'path' || (json.required ?? []).includes(name);
      out.push({ name, in: where, required, schema });
    }
  };
  add('path', doc.params);
  add('query', doc.query);
  for (const h of doc.headers ?? []) {
    out.push({
      name: h.name,
      in: 'header',
      required: h.required ?? false,
      description: h.description,
      schema: h.schema ? schemaOf(h.schema, 'input') : { type: 'string' },
    });
  }
  return out;
}

function requestBody(doc: RouteDoc): unknown {
  const b = doc.body!;
  const types = b.contentTypes ?? ['application/json'];
  const schema = b.schema ? schemaOf(b.schema, 'input') : b.binary ? { type: 'string', format: 'binary' } : { type: 'string' };
  return {
    required: true,
    ...(b.description ? { description: b.description } : {}),
    content: Object.fromEntries(types.map((t) => [t, { schema }])),
  };
}

function operation(doc: RouteDoc): unknown {
  const responses: Record<string, unknown> = impliedErrors(doc);
  for (const [status, r] of Object.entries(doc.responses)) responses[status] = response(Number(status), r);
  const roles = doc.auth === 'anyone' ? 'anyone' : doc.auth.join(', ');
  return {
    operationId: doc.operationId ?? `${doc.method}${doc.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: doc.summary,
    description: `${doc.description ? `${doc.description}\n\n` : ''}Who: ${roles}.`,
    ...(doc.tags ? { tags: doc.tags } : {}),
    security: doc.auth === 'anyone' ? [] : doc.authOptional ? [{}, { bearer: [] }] : [{ bearer: [] }],
    parameters: parameters(doc),
    ...(doc.body ? { requestBody: requestBody(doc) } : {}),
    responses,
  };
}

/** `/groups/:group/configuration` → `/groups/{group}/configuration` */
export const openApiPath = (path: string): string => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** The OpenAPI 3.1 document, generated from the route registry. */
export function openApiDocument(opts: { basePath: string; version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const doc of describedRoutes()) {
    const p = doc.basePath === false ? openApiPath(doc.path) : openApiPath(`${opts.basePath}${doc.path}`);
    (paths[p] ??= {})[doc.method] = operation(doc);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'comms-api',
      version: opts.version,
      description:
        'The server endpoint security agents talk to. Errors are application/problem+json. ' +
        'Tokens are JWTs (`Authorization: Bearer`), from POST /api/v1/login.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Problem: schemaOf(ProblemSchema, 'output') },
    },
  };
}
