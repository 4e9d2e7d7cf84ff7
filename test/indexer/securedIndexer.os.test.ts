import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../src/config.js';
import { createIndexerClient, type IndexerHealth } from '../../src/indexer/indexerClient.js';
import { indexerConnection } from '../../src/indexer/indexerConnection.js';
import { startSecuredOpenSearch, type SecuredOpenSearchNode } from '../support/opensearch/secured.js';
import { spawnServer, tempDir } from '../support/server.js';

// A second OpenSearch node, started here, with its security plugin on: HTTPS signed by a throw-away CA,
// an internal user (basic auth) and client certificates (secure-config.sh).
interface Ctx {
  os: SecuredOpenSearchNode;
}
const secured = suite<Ctx>('the indexer client against an OpenSearch node with its security plugin on');

secured.before(async (ctx) => {
  try {
    ctx.os = await startSecuredOpenSearch({ startTimeoutMs: 400_000 });
  } catch (err) {
    console.error(err); // uvu does not print a failed hook's error
    throw err;
  }
});
secured.after(async (ctx) => {
  await ctx.os?.stop();
});

/** The first authenticated requests of a new node are slow on a loaded machine (bcrypt, TLS, caches): ask again. */
async function healthy(indexer: ReturnType<typeof createIndexerClient>): Promise<IndexerHealth> {
  let h = await indexer.health();
  for (let i = 0; i < 30 && !h.reachable && /Timeout/.test(h.reason ?? ''); i++) h = await indexer.health();
  return h;
}

const connect = (os: SecuredOpenSearchNode, env: Record<string, string>) =>
  createIndexerClient(indexerConnection(loadConfig({ COMMS_API_INDEXER_URL: os.url, ...env }))!);

secured('the node really is secured: HTTPS, and an anonymous request is refused', async ({ os }) => {
  assert.match(os.url, /^https:\/\//);
  const anonymous = connect(os, { COMMS_API_INDEXER_CA: os.ca });
  const health = await healthy(anonymous);
  assert.is(health.reachable, false);
  assert.match(health.reason!, /refused our credentials \(401\)/);
  await anonymous.close();
});

secured('with the CA and basic auth: healthy, templates applied, documents indexed', async ({ os }) => {
  const indexer = connect(os, { COMMS_API_INDEXER_CA: os.ca, COMMS_API_INDEXER_USERNAME: os.user, COMMS_API_INDEXER_PASSWORD: os.password });
  const health = await healthy(indexer);
  assert.is(health.reachable, true, health.reason);
  assert.ok((await indexer.ensureTemplates()).ok);
  const r = await indexer.bulk([JSON.stringify({ index: { _index: 'wazuh-states-secured', _id: 'one' } }), JSON.stringify({ probe: true })], 'wait_for');
  assert.ok(r.ok && r.value[0]!.status === 201, JSON.stringify(r));
  const who = await indexer.client.transport.request({ method: 'GET', path: '/_plugins/_security/authinfo' });
  assert.is((who.body as { user_name: string }).user_name, os.user);
  await indexer.close();
});

secured('with the CA and a client certificate (no password): authenticated as the certificate CN', async ({ os }) => {
  const indexer = connect(os, { COMMS_API_INDEXER_CA: os.ca, COMMS_API_INDEXER_CERT: os.clientCert, COMMS_API_INDEXER_KEY: os.clientKey });
  const who = await indexer.client.transport.request({ method: 'GET', path: '/_plugins/_security/authinfo' });
  assert.is((who.body as { user_name: string }).user_name, os.user);
  await indexer.close();
});

secured('TLS is verified: without the CA the node is refused, whatever the credentials', async ({ os }) => {
  const indexer = connect(os, { COMMS_API_INDEXER_USERNAME: os.user, COMMS_API_INDEXER_PASSWORD: os.password });
  const health = await healthy(indexer);
  assert.is(health.reachable, false);
  assert.match(health.reason!, /certificate/i);
  await indexer.close();
});

secured('a wrong password is reported at start (log) and in /ready, and nothing is dead-lettered', async ({ os }) => {
  const dataDir = tempDir();
  const server = await spawnServer(dataDir, {
    COMMS_API_INDEXER_URL: os.url,
    COMMS_API_INDEXER_CA: os.ca,
    COMMS_API_INDEXER_USERNAME: os.user,
    COMMS_API_INDEXER_PASSWORD: 'not the password',
  });
  try {
    let ready: { pipelines: { indexer: { state: string; last_error?: string } }; indexer: { reachable: boolean; reason?: string } | null } | undefined;
    for (let i = 0; i < 240; i++) {
      ready = (await (await fetch(`${server.api}/ready`)).json()) as typeof ready;
      if (/401/.test(ready?.indexer?.reason ?? '') && ready!.pipelines.indexer.state === 'down' && ready!.pipelines.indexer.last_error) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.is(ready!.indexer!.reachable, false);
    assert.match(ready!.indexer!.reason!, /refused our credentials \(401\)/);
    assert.is(ready!.pipelines.indexer.state, 'down');
    assert.match(ready!.pipelines.indexer.last_error!, /401/);
    const logged = server.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; reason?: string; level: unknown });
    const line = logged.find((l) => l.msg === 'indexer unavailable' && /401/.test(l.reason ?? ''));
    assert.ok(line, server.output());
    assert.is(line!.level, 'error');
  } finally {
    await server.kill();
  }
});

secured('a CA file that cannot be read stops start-up naming its variable', () => {
  try {
    indexerConnection(loadConfig({ COMMS_API_INDEXER_URL: 'https://127.0.0.1:9', COMMS_API_INDEXER_CA: '/nonexistent/ca.pem' }));
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /COMMS_API_INDEXER_CA/);
  }
});

secured.run();
