/**
 * The published package, as a consumer's compiler sees it: after a build, a small consumer that
 * imports `raftkit`, `raftkit/conformance`, `raftkit/testing` and `raftkit/viz` type-checks under every module resolution a
 * TypeScript project may use: node10 (`"moduleResolution": "node"`), node16 from CommonJS and
 * from ESM, and bundler. The consumer sits in a temporary directory whose
 * `node_modules/raftkit` is a symlink to this checkout, so resolution goes through package.json
 * (`exports`, `types`, `typesVersions`) exactly as for an installed copy.
 *
 * `npm test` runs before `npm run build` (see .ci/run), so this builds first, with the build
 * step of `npm run demo`, which must print nothing (the demo's output is what a reader wants).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; types: string; scripts: Record<string, string> };
/** `npm run demo` is `<build> && node dist/cli.js demo`. */
const DEMO = /^(.+) && node dist\/cli\.js demo$/;
const demoBuild = DEMO.exec(pkg.scripts.demo ?? '')?.[1] ?? 'tsup';
let buildOutput = '';
let dir = '';

/** Uses the browser-safe entry points; a module that resolves to no types (or to `any`) fails to compile. */
const CONSUMER = `
import { Cluster, MemoryStorage, type Storage } from 'raftkit';
import { runChecks, storageChecks, type ConformanceCheck, type StorageHarness } from 'raftkit/conformance';
import { checkLinearizable, kvModel, type CheckResult, type KvState } from 'raftkit/testing';
import { toMermaid, toSpaceTimeSvg, type DrawableTrace } from 'raftkit/viz';

const storage: Storage = new MemoryStorage();
const harness: StorageHarness = { create: () => ({ storage }) };
const checks: ConformanceCheck[] = storageChecks(harness);
const count: number = checks.length;
// @ts-expect-error storageChecks takes a harness, not a number (so its type is not \`any\`)
storageChecks(42);
// @ts-expect-error Cluster needs options (so its type is not \`any\`)
new Cluster();
export const run = (): Promise<unknown> => runChecks(checks.slice(0, count));
const verdict: CheckResult<KvState> = checkLinearizable([{ client: 1, input: { op: 'get', key: 'x' }, invoke: 0, complete: 1, status: 'ok' }], kvModel);
// @ts-expect-error checkLinearizable needs a model (so its type is not \`any\`)
checkLinearizable([]);
export const linearizable: boolean = verdict.result === 'linearizable';
const trace: DrawableTrace = new Cluster({ size: 3, seed: 1 }).trace();
export const pictures: string[] = [toMermaid(trace, { heartbeats: 'hide' }), toSpaceTimeSvg(trace)];
// @ts-expect-error toMermaid takes a trace, not a number (so its type is not \`any\`)
toMermaid(42);
`;

/** Type-checks `files` (relative to the consumer directory) with `options`; returns the diagnostics, formatted. */
function typeCheck(files: string[], options: ts.CompilerOptions): string[] {
  const program = ts.createProgram(
    files.map((file) => join(dir, file)),
    { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], types: [], skipLibCheck: false, ...options },
  );
  return ts.getPreEmitDiagnostics(program).map((d) => ts.formatDiagnostic(d, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => dir, getNewLine: () => '\n' }).trim());
}

beforeAll(() => {
  // Build once, so dist/ matches the sources (on a clean clone it does not exist yet), as npm run demo does.
  const PATH = `${join(root, 'node_modules/.bin')}${delimiter}${process.env.PATH ?? ''}`;
  const build = spawnSync(demoBuild, { cwd: root, shell: true, encoding: 'utf8', env: { ...process.env, PATH } });
  if (build.status !== 0) throw new Error(`${demoBuild} failed (${build.status}):\n${build.stdout}${build.stderr}`);
  buildOutput = `${build.stdout}${build.stderr}`;
  dir = mkdtempSync(join(tmpdir(), 'raftkit-consumer-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'raftkit'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  for (const file of ['consumer.ts', 'consumer.cts', 'consumer.mts']) writeFileSync(join(dir, file), CONSUMER);
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('builds, then runs the demo', () => {
    expect(pkg.scripts.demo).toMatch(DEMO);
  });

  it('builds silently: the demo is all it prints', () => {
    expect(buildOutput.split('\n').filter((line) => line.trim() !== '')).toEqual([]);
  });
});

describe('the built raftkit binary', () => {
  it('prints the version in package.json (read at run time, next to dist/)', () => {
    expect(execFileSync(process.execPath, [join(root, 'dist/cli.js'), '--version'], { encoding: 'utf8' })).toBe(`${pkg.version}\n`);
  });
});

describe('a consumer type-checks against the built package', () => {
  it('the build wrote the declarations package.json names', () => {
    expect(() => readFileSync(join(root, pkg.types))).not.toThrow();
  });

  it('with "moduleResolution": "node" (node10)', () => {
    expect(typeCheck(['consumer.ts'], { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 })).toEqual([]);
  });

  it('with "moduleResolution": "node16", from CommonJS and from ESM', () => {
    expect(typeCheck(['consumer.cts', 'consumer.mts'], { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 })).toEqual([]);
  });

  it('with "moduleResolution": "bundler"', () => {
    expect(typeCheck(['consumer.ts'], { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler })).toEqual([]);
  });
});
