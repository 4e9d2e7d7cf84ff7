#!/usr/bin/env node
'use strict';
// The package's command-line tool. A CommonJS file (bin/package.json) that loads nothing for a
// help or the version: it prints what the build recorded from the real command tree
// (dist/cli/help.json, made by dist/cli/helpCache.js); anything else runs the compiled CLI
// (dist/cli.js: commander, then only the modules of the command).
const { fstatSync, readFileSync, statSync, writeSync } = require('node:fs');
const { join } = require('node:path');

const dir = join(__dirname, '..', 'dist', 'cli');

/** The recorded answer to argv, or undefined (not a help request, no cache, or a cache older than program.js). */
function cached(argv) {
  const last = argv[argv.length - 1];
  if (!(argv.length === 0 || last === '--help' || last === '-h' || last === '-V' || last === '--version' || argv.includes('help'))) return undefined;
  let cache;
  try {
    cache = JSON.parse(readFileSync(join(dir, 'help.json'), 'utf8'));
    if (statSync(join(dir, 'program.js')).size !== cache.programSize) return undefined;
  } catch {
    return undefined;
  }
  const entry = cache.entries[JSON.stringify(argv)];
  return entry && { index: entry[0], fd: entry[1], code: entry[2], text: cache.texts[entry[0]], width: cache.width };
}

/**
 * The width commander would wrap at: a terminal's columns, else undefined (its default, 80).
 * Only a character device other than /dev/null can be a terminal: node:tty costs more to load
 * than the rest of this file, so pipes and files never load it.
 */
function terminalWidth(fd) {
  const st = fstatSync(fd);
  if (!st.isCharacterDevice() || st.rdev === statSync('/dev/null').rdev) return undefined;
  if (!require('node:tty').isatty(fd)) return undefined;
  return (fd === 1 ? process.stdout : process.stderr).columns;
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

function helpText(hit) {
  let width;
  try {
    width = terminalWidth(hit.fd);
  } catch {
    width = undefined;
  }
  if (!width || width === hit.width) return hit.text;
  return render(JSON.parse(readFileSync(join(dir, 'help-templates.json'), 'utf8'))[hit.index], width);
}

/** Writes all of text; a reader that is gone (EPIPE) ends the output quietly (exit 0), as dist/cli.js does. */
function writeAll(fd, text) {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; ) {
    try {
      at += writeSync(fd, bytes, at);
    } catch (err) {
      if (err.code === 'EAGAIN') continue;
      if (err.code === 'EPIPE') return false;
      throw err;
    }
  }
  return true;
}

if (require.main === module) {
  const hit = cached(process.argv.slice(2));
  if (hit) process.exitCode = writeAll(hit.fd, helpText(hit)) ? hit.code : 0;
  else import('../dist/cli.js');
}

module.exports = { cached, render };
