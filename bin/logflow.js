#!/usr/bin/env -S node --max-semi-space-size=64
// The `logflow` command. Sources are TypeScript, loaded through tsx so there is no build step.
// --max-semi-space-size: a 64 MiB young generation, so the records of a batch die young instead of
// being copied into the old generation (npm scripts and the Dockerfile pass the same flag).
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
