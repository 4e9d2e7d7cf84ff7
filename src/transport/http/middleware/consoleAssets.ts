import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Context, Next } from 'koa';

/** The console's static files: `console/` at the package root (src/ and dist/ sit at the same depth below it). */
export const CONSOLE_DIR = new URL('../../../../console/', import.meta.url).pathname;
export const CONSOLE_PATH = '/console';

/** No inline scripts or styles, nothing from elsewhere; the API is on the same origin. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

interface Asset {
  body: Buffer;
  type: string;
}

/** Reads every file below `dir` once: requests can only name a file that was there at start-up (no traversal). */
export function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      if (statSync(join(dir, path)).isDirectory()) walk(path);
      else {
        const type = TYPES[extname(name)];
        if (type) assets.set(path, { body: readFileSync(join(dir, path)), type });
      }
    }
  };
  try {
    walk('');
  } catch {
    /* no console folder: /console/ answers 404 */
  }
  return assets;
}

/** Serves `/console/` (index.html) and its assets with a strict Content-Security-Policy; anything else goes on. */
export const consoleAssets = (opts: { dir?: string } = {}) => {
  const assets = loadAssets(opts.dir ?? CONSOLE_DIR);
  return async function consoleAssets(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== CONSOLE_PATH && !ctx.path.startsWith(`${CONSOLE_PATH}/`)) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === CONSOLE_PATH) {
      ctx.redirect(`${CONSOLE_PATH}/`);
      return;
    }
    const rel = ctx.path.slice(CONSOLE_PATH.length + 1) || 'index.html';
    const asset = assets.get(rel);
    if (!asset) return next();
    ctx.set('Content-Security-Policy', CONSOLE_CSP);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cache-Control', rel === 'index.html' ? 'no-cache' : 'public, max-age=300');
    ctx.type = asset.type;
    ctx.body = asset.body;
  };
};
