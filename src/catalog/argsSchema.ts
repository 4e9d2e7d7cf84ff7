import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { StatusError } from '../errors.js';

/** A field-level validation failure, shaped like the problem+json `errors` members. */
export interface FieldError {
  field: string;
  message: string;
}

/** Arguments that do not match a catalogue schema, or a schema that is not valid JSON Schema. */
export class InvalidArgsError extends StatusError {
  readonly status = 400;
  override readonly problem: { errors: FieldError[] };
  constructor(
    message: string,
    readonly errors: FieldError[],
  ) {
    super(message);
    this.problem = { errors };
  }
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * One Ajv instance (JSON Schema draft-07) for every catalogue schema. Unknown keywords and
 * invalid numbers are refused, so a misspelt schema is rejected when it is put, not silently
 * accepted; the stricter type/required checks are off (they refuse valid schemas).
 * `addUsedSchema: false` keeps schemas with an `$id` from colliding across revisions.
 */
const ajv = addFormats(
  new Ajv({
    strictSchema: true,
    strictNumbers: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    allErrors: true,
    addUsedSchema: false,
  }),
);
const compiled = new Map<string, ValidateFunction>();
const MAX_CACHED = 256;

/** Compiles (once per distinct schema text) or throws InvalidArgsError naming the problem. */
export function compileArgsSchema(schema: Record<string, unknown>, field = 'args'): ValidateFunction {
  const key = JSON.stringify(schema);
  const cached = compiled.get(key);
  if (cached) return cached;
  if (!ajv.validateSchema(schema)) {
    const errors = (ajv.errors ?? []).map((e) => toFieldError(e, field));
    throw new InvalidArgsError(`${field} is not a valid JSON Schema: ${errors[0]?.field}: ${errors[0]?.message}`, errors);
  }
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } catch (err) {
    const message = (err as Error).message;
    throw new InvalidArgsError(`${field} is not a valid JSON Schema: ${message}`, [{ field, message }]);
  }
  if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value as string);
  compiled.set(key, validate);
  return validate;
}

/** Validates `args` against `schema`; throws InvalidArgsError naming the fields (from ajv's instancePath). */
export function checkArgs(schema: Record<string, unknown>, args: unknown, field = 'action.args'): void {
  const validate = compileArgsSchema(schema);
  if (validate(args)) return;
  const errors = (validate.errors ?? []).map((e) => toFieldError(e, field));
  const first = errors[0] ?? { field, message: 'does not match the schema' };
  throw new InvalidArgsError(`${first.field}: ${first.message}`, errors);
}

/** `/groups/0` under `action.args` → `action.args.groups.0`; a missing property is named itself. */
function toFieldError(e: ErrorObject, prefix: string): FieldError {
  const parts = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const missing = (e.params as { missingProperty?: string }).missingProperty;
  if (e.keyword === 'required' && missing) parts.push(missing);
  const extra = (e.params as { additionalProperty?: string }).additionalProperty;
  if (e.keyword === 'additionalProperties' && extra) parts.push(extra);
  return { field: [prefix, ...parts].join('.'), message: e.message ?? `fails ${e.keyword}` };
}
