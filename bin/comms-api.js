#!/usr/bin/env node
// The package's command-line tool: the compiled CLI (npm install builds it into dist/).
import '../dist/cli.js';
