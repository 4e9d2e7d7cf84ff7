#!/usr/bin/env node
'use strict';
// The package's command-line tool. A CommonJS file (bin/package.json) that loads nothing for a
// help or the version: it prints what the build recorded from the real command tree
// (dist/cli/help.json, made by dist/cli/helpCache.js); anything else runs the compiled CLI
// (dist/cli.js, commander and the command's own modules).
const { readFileSync, statSync, writeSync } = require('node:fs');
const { join } = require('node:path');

const dist = join(__dirname, '..', 'dist');

/** The recorded answer to argv, or undefined (not a help request, no cache, or a cache older than program.js). */
function cached(argv) {
  const last = argv[argv.length - 1];
  if (!(argv.length === 0 || last === '--help' || last === '-h' || argv.includes('help') || last === '-V' || last === '--version')) return undefined;
  let cache;
  try {
    cache = JSON.parse(readFileSync(join(dist, 'cli', 'help.json'), 'utf8'));
    if (statSync(join(dist, 'cli', 'program.js')).size !== cache.programSize) return undefined;
  } catch {
    return undefined;
  }
  const entry = cache.entries[JSON.stringify(argv)];
  return entry && { cache, help: cache.helps[entry[0]], fd: entry[1], code: entry[2] };
}

/** The help at the width commander would use: a terminal's columns, else 80. */
function helpText(cache, help, fd) {
  const width = require('node:tty').isatty(fd) ? (fd === 1 ? process.stdout : process.stderr).columns : undefined;
  if (!width || width === cache.width || help.parts.length === 0) return help.text;
  return render(help, width);
}

/** A help template with its wrapped items formatted by commander's Help at `width` columns. */
function render(help, width) {
  const { Help } = require('commander');
  const helper = new Help();
  helper.prepareContext({ helpWidth: width });
  return help.template.replace(/\0(\d+)\0/g, (_, i) => {
    const part = help.parts[Number(i)];
    return part.length === 3 ? helper.formatItem(part[0], part[1], part[2], helper) : helper.boxWrap(part[0], width + part[1]);
  });
}

/** Writes all of text; a reader that is gone (EPIPE) ends the output quietly, as in dist/cli.js. */
function writeAll(fd, text) {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; ) {
    try {
      at += writeSync(fd, bytes, at);
    } catch (err) {
      if (err.code === 'EAGAIN') continue;
      if (err.code === 'EPIPE') return 0;
      throw err;
    }
  }
  return undefined;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const hit = cached(argv);
  if (hit) {
    const quiet = writeAll(hit.fd, helpText(hit.cache, hit.help, hit.fd));
    process.exitCode = quiet ?? hit.code;
  } else {
    import('../dist/cli.js');
  }
}

module.exports = { cached, render };
