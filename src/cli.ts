#!/usr/bin/env node
/**
 * The `floki` command. Its first statement turns off what start-up would leave in an idle process's
 * memory (src/startup.ts); the CLI itself (src/cli-main.ts) and everything it loads come after.
 */
import { beginStartup } from './startup.js';

beginStartup();
await import('./cli-main.js');
