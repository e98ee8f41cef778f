/**
 * Runs every `@example` block of the clock sources and every ts snippet of docs/clocks.md, with
 * `'raftkit'` resolved to the clocks source, so documentation cannot silently rot.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { format } from 'node:util';
import { transformSync } from 'esbuild';
import * as clocks from '../../src/clocks/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const raftkit = { ...clocks };

function examplesInSource(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const blocks: string[] = [];
  for (const comment of text.match(/\/\*\*[\s\S]*?\*\//g) ?? []) {
    const body = comment.split('\n').map((line) => line.replace(/^\s*\/?\*+\/?\s?/, '')).join('\n');
    for (const match of body.matchAll(/@example\s*```ts\n([\s\S]*?)```/g)) blocks.push(match[1] ?? '');
  }
  return blocks;
}

function snippetsInMarkdown(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
}

/** Compiles a TypeScript snippet to CommonJS and runs it; returns what it printed. */
function run(source: string): string[] {
  const { code } = transformSync(source, { loader: 'ts', format: 'cjs' });
  const printed: string[] = [];
  const fakeConsole = { log: (...args: unknown[]) => printed.push(format(...args)) };
  const fakeRequire = (name: string): unknown => {
    if (name !== 'raftkit') throw new Error(`example imports ${name}`);
    return raftkit;
  };
  new Function('require', 'console', 'module', 'exports', code)(fakeRequire, fakeConsole, { exports: {} }, {});
  return printed;
}

const sources = readdirSync(join(root, 'src/clocks')).map((f) => `src/clocks/${f}`);
const fromSources = sources.flatMap((file) => examplesInSource(file).map((code, i) => [`${file} #${i + 1}`, code] as const));
const fromDocs = snippetsInMarkdown('docs/clocks.md').map((code, i) => [`docs/clocks.md #${i + 1}`, code] as const);

describe('documentation examples run', () => {
  it('finds examples for every export', () => {
    expect(fromSources.length).toBeGreaterThanOrEqual(Object.keys(raftkit).length);
    expect(fromDocs.length).toBeGreaterThanOrEqual(5);
  });

  it.each(fromSources)('%s', (_name, code) => {
    expect(code).toContain("from 'raftkit'");
    expect(() => run(code)).not.toThrow();
  });

  it.each(fromDocs)('%s', (_name, code) => {
    expect(code).toContain("from 'raftkit'");
    expect(() => run(code)).not.toThrow();
  });

  it('docs/clocks.md prints what its comments say', () => {
    const [lamport, vector, hlc, drift, errors] = fromDocs.map(([, code]) => run(code));
    expect(lamport).toEqual(['A sends at time: 1', 'B after receiving: 2', 'B after internal event: 3']);
    expect(vector).toEqual(['before', 'concurrent', 'concurrent']);
    expect(hlc).toEqual(['-1', "{ wallTime: 1000, logical: 1, nodeId: 'A' }", '0000000000001000-0000000000000001-B']);
    expect(drift).toEqual(['9000 500', '{ wallTime: 0, logical: 0 }']);
    expect(errors?.map((line) => line.split(' ')[0])).toEqual(['INVALID_TIMESTAMP', 'INVALID_TIMESTAMP', 'INVALID_TIMESTAMP', '{']);
    expect(errors?.at(-1)).toBe('{ A: 1 } undefined');
  });
});
