import { defineConfig } from 'tsup';

export default defineConfig([
  // ESM, one file per module: with "sideEffects": false a bundler drops every module a user does
  // not import (and its imports, e.g. eventemitter3), so `LamportClock` alone carries no Raft.
  {
    entry: ['src/**/*.ts', '!src/cli.ts', '!src/examples/**'],
    outDir: 'dist/esm',
    format: ['esm'],
    bundle: false,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    dts: false,
  },
  // CommonJS, one bundle per entry point sharing one chunk (so both see the same classes:
  // `instanceof RaftError` holds for an error out of a check), and the type declarations.
  {
    entry: { index: 'src/index.ts', conformance: 'src/conformance/index.ts', testing: 'src/testing/index.ts', viz: 'src/viz/index.ts', node: 'src/node-only/index.ts' },
    format: ['cjs', 'esm'],
    splitting: true,
    outDir: 'dist',
    dts: { only: false },
    sourcemap: true,
    target: 'es2022',
  },
  {
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    outDir: 'dist',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    banner: { js: '#!/usr/bin/env node' },
  },
]);
