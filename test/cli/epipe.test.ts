import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from '../support/server.js';

const epipe = suite('a reader that closes stdout early');

epipe('ends the command with exit 0 and no stack trace (`comms-api --help | head -0`)', async () => {
  const child = spawn(process.execPath, [join(ROOT, 'bin/comms-api.js'), '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // the reader is gone before the first write
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.is(code, 0, err);
  assert.not.match(err, /EPIPE|Unhandled/);
});

epipe.run();
