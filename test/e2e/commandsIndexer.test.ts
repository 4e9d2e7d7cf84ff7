import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminCall, adminUpload, call, login } from '../support/client.js';
import { startOpenSearch, type OpenSearchNode } from '../support/opensearch/node.js';
import { AGENT_KEY, spawnServer, tempDir, type ServerProcess } from '../support/server.js';


/** The commands index document of (command, agent), or undefined while it is not there yet. */
async function commandDoc(osUrl: string, command: string, agent: string): Promise<Record<string, any> | undefined> {
  const r = await fetch(`${osUrl}/comms-commands/_doc/${encodeURIComponent(`${command}:${agent}`)}`);
  if (r.status === 404) return undefined;
  const body = (await r.json()) as { found?: boolean; _source?: Record<string, any> };
  return body.found ? body._source : undefined;
}

async function eventually<T>(probe: () => Promise<T>, check: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = await probe();
    if (check(v)) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

interface Ctx {
  osUrl: string;
  os?: OpenSearchNode;
  dataDir: string;
  server: ServerProcess;
}

const mirror = suite<Ctx>('commands mirrored to the indexer');

mirror.before(async (ctx) => {
  if (process.env.OPENSEARCH_URL) ctx.osUrl = process.env.OPENSEARCH_URL;
  else {
    ctx.os = await startOpenSearch({ painless: false, javaOpts: '-Xms512m -Xmx512m' });
    ctx.osUrl = ctx.os.url;
  }
  ctx.dataDir = tempDir('comms-api-e2e-cmdidx-');
  ctx.server = await spawnServer(ctx.dataDir, { COMMS_API_INDEXER_URL: ctx.osUrl });
});

mirror.after(async (ctx) => {
  await ctx.server?.kill('SIGTERM');
  await ctx.os?.stop();
  rmSync(ctx.dataDir, { recursive: true, force: true });
});

mirror('each target’s state follows the command in the commands index', async (ctx) => {
  const socket = join(ctx.dataDir, 'admin.sock');
  for (const uuid of ['mirror-1', 'mirror-2', 'mirror-3']) {
    assert.is((await adminCall(socket, 'POST', '/agents', { uuid, key: AGENT_KEY, groups: ['mirror'] })).status, 201);
  }
  const [t1, t2] = await Promise.all([
    login(ctx.server.api, { uuid: 'mirror-1', key: AGENT_KEY }),
    login(ctx.server.api, { uuid: 'mirror-2', key: AGENT_KEY }),
  ]);
  assert.is(await adminUpload(socket, 'agent-5.1.deb'), 201);
  const issued = await adminCall(socket, 'POST', '/commands', {
    action: { name: 'upgrade', args: { package: 'agent-5.1.deb' } },
    target: { type: 'group', id: 'mirror' },
  });
  assert.is(issued.status, 201);
  const id = issued.body.id as string;
  const polled = await call('GET', `${ctx.server.api}/commands?wait=10`, { token: t2 });
  assert.equal(polled.body.commands.map((c: { id: string }) => c.id), [id]);
  const reported = await call('POST', `${ctx.server.api}/commands/${id}/result`, {
    token: t1,
    json: { status: 'failure', code: 28, message: 'disk full', data: { free: 0 } },
  });
  assert.is(reported.status, 204);

  const failed = await eventually(() => commandDoc(ctx.osUrl, id, 'mirror-1'), (d) => d?.state === 'failure', 'mirror-1 failure');
  assert.is(failed!.code, 28);
  assert.is(failed!.message, 'disk full');
  assert.is(failed!.actor, 'agent:mirror-1');
  const delivered = await eventually(() => commandDoc(ctx.osUrl, id, 'mirror-2'), (d) => d?.state === 'delivered', 'mirror-2 delivered');
  assert.is(delivered!.agent, 'mirror-2');
  const pending = await eventually(() => commandDoc(ctx.osUrl, id, 'mirror-3'), (d) => d !== undefined, 'mirror-3 document');
  assert.is(pending!.state, 'pending');
  assert.is(pending!.action.name, 'upgrade');
  assert.is(pending!.actor, 'admin-socket');
});

mirror.run();
