import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { closest, distance } from 'fastest-levenshtein';
import proxyaddr from 'proxy-addr';
import { z } from 'zod';

function validProxyList(list: string[]): boolean {
  try {
    proxyaddr.compile(list);
    return true;
  } catch {
    return false;
  }
}

/** Environment variable → config key. Documented in the README (a test checks the table against this). */
export const ENV = {
  COMMS_API_DATA_DIR: 'dataDir',
  COMMS_API_HOST: 'host',
  COMMS_API_PORT: 'port',
  COMMS_API_TLS_CERT: 'tlsCert',
  COMMS_API_TLS_KEY: 'tlsKey',
  COMMS_API_INSECURE_HTTP: 'insecureHttp',
  COMMS_API_ENGINE_SOCKET: 'engineSocket',
  COMMS_API_INDEXER_URL: 'indexerUrl',
  COMMS_API_INDEXER_CA: 'indexerCa',
  COMMS_API_INDEXER_CERT: 'indexerCert',
  COMMS_API_INDEXER_KEY: 'indexerKey',
  COMMS_API_INDEXER_USERNAME: 'indexerUsername',
  COMMS_API_INDEXER_PASSWORD: 'indexerPassword',
  COMMS_API_METRICS_HOST: 'metricsHost',
  COMMS_API_METRICS_PORT: 'metricsPort',
  COMMS_API_ADMIN_SOCKET: 'adminSocket',
  COMMS_API_TOKEN_TTL: 'tokenTtl',
  COMMS_API_JWT_PRIVATE_KEY: 'jwtPrivateKey',
  COMMS_API_JWT_PUBLIC_KEY: 'jwtPublicKey',
  COMMS_API_JOURNAL_MAX_BYTES: 'journalMaxBytes',
  COMMS_API_MAX_BODY_BYTES: 'maxBodyBytes',
  COMMS_API_MAX_PACKAGE_BYTES: 'maxPackageBytes',
  COMMS_API_RETENTION_DAYS: 'retentionDays',
  COMMS_API_RETENTION_MAX_BYTES: 'retentionMaxBytes',
  COMMS_API_REPLAY_RATE: 'replayRate',
  COMMS_API_LOG_LEVEL: 'logLevel',
  COMMS_API_TRUSTED_PROXIES: 'trustedProxies',
  COMMS_API_HASH_CONCURRENCY: 'hashConcurrency',
  COMMS_API_HASH_QUEUE: 'hashQueue',
} as const;

type ConfigKey = (typeof ENV)[keyof typeof ENV];

const bool = z
  .union([z.boolean(), z.enum(['0', '1', 'true', 'false'])])
  .transform((v) => v === true || v === '1' || v === 'true');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const ConfigSchema = z.object({
  dataDir: z.string().min(1).default('./data'),
  host: z.string().min(1).default('0.0.0.0'),
  port: int(0, 65535).default(27000),
  tlsCert: z.string().min(1).optional(),
  tlsKey: z.string().min(1).optional(),
  insecureHttp: bool.default(false),
  engineSocket: z.string().min(1).optional(),
  indexerUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** PEM file of the CA that signed the indexer's certificate (TLS is always verified). */
  indexerCa: z.string().min(1).optional(),
  /** PEM files of a client certificate and its key, for an indexer that authenticates certificates. */
  indexerCert: z.string().min(1).optional(),
  indexerKey: z.string().min(1).optional(),
  indexerUsername: z.string().min(1).optional(),
  indexerPassword: z.string().min(1).optional(),
  /** The metrics-only listener (plain HTTP, GET /metrics without credentials); no port = none. */
  metricsHost: z.string().min(1).default('127.0.0.1'),
  metricsPort: int(0, 65535).optional(),
  adminSocket: z.string().min(1).optional(),
  tokenTtl: int(10, 7 * 24 * 3600).default(900),
  jwtPrivateKey: z.string().min(1).optional(),
  jwtPublicKey: z.string().min(1).optional(),
  journalMaxBytes: int(1 << 20, Number.MAX_SAFE_INTEGER).default(20 * 1024 ** 3),
  maxBodyBytes: int(1024, 512 * 1024 ** 2).default(10 * 1024 ** 2),
  maxPackageBytes: int(1, Number.MAX_SAFE_INTEGER).default(1024 ** 3),
  retentionDays: int(0, 36500).default(0),
  /** Journal rows kept at most (bytes of payload); 0 = no size limit. */
  retentionMaxBytes: int(0, Number.MAX_SAFE_INTEGER).default(0),
  /** Replay rate limit in events per second; 0 = unlimited. */
  replayRate: int(0, 10_000_000).default(0),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed (comma-separated in the environment). */
  trustedProxies: z
    .union([z.array(z.string()), z.string()])
    .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((x) => x.trim()).filter((x) => x !== ''))
    .refine(validProxyList, 'a comma-separated list of IP addresses or CIDRs (e.g. 10.0.0.1,10.1.0.0/16)')
    .default([]),
  /** Slow hashes (scrypt) running at once; kept below libuv's pool size (UV_THREADPOOL_SIZE, default 4) minus 2. */
  hashConcurrency: int(1, 64).default(2),
  /** Slow hashes waiting at most; beyond, a login is answered 503 with Retry-After. */
  hashQueue: int(0, 100_000).default(64),
});

export type Config = Omit<z.infer<typeof ConfigSchema>, 'engineSocket' | 'adminSocket'> & {
  engineSocket: string;
  adminSocket: string;
};

export class ConfigError extends Error {}

const KEYS = Object.keys(ConfigSchema.shape);

/** A config-file key the schema does not know: an error naming it, with the closest known key when it is a typo. */
function unknownKey(file: string, key: string): ConfigError {
  const near = closest(key, KEYS);
  const hint = distance(key.toLowerCase(), near.toLowerCase()) <= 2 ? ` (did you mean "${near}"?)` : '';
  return new ConfigError(`config file ${file}: unknown key "${key}"${hint}`);
}

/** The JSON config file: an object of known keys; `null` stands for "unset" (as in config.example.json). */
function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(`config file ${file} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold a JSON object`);
  }
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!KEYS.includes(key)) throw unknownKey(file, key);
    if (value !== null) raw[key] = value;
  }
  return raw;
}

/** Reads the optional JSON config file, then lets environment variables override it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, file?: string): Config {
  const raw: Record<string, unknown> = file ? readConfigFile(file) : {};
  for (const [name, key] of Object.entries(ENV)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0]) as ConfigKey;
    const variable = Object.entries(ENV).find(([, k]) => k === key)?.[0] ?? key;
    throw new ConfigError(`invalid ${variable}: ${issue.message}`);
  }
  const cfg = parsed.data;
  if (Boolean(cfg.tlsCert) !== Boolean(cfg.tlsKey)) {
    throw new ConfigError('invalid COMMS_API_TLS_CERT/COMMS_API_TLS_KEY: set both or neither');
  }
  const dataDir = resolve(cfg.dataDir);
  return {
    ...cfg,
    dataDir,
    engineSocket: cfg.engineSocket ?? join(dataDir, 'engine.sock'),
    adminSocket: cfg.adminSocket ?? join(dataDir, 'admin.sock'),
  };
}
