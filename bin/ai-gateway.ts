#!/usr/bin/env node
/** The `ai-gateway` command: see cli.ts for what it does. */
import { runCli } from './cli.js';

runCli(process.argv.slice(2));
