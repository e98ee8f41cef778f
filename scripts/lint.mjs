// Project checks that a type checker cannot make: determinism, browser safety, layering,
// package correctness and tree-shaking. Run after `npm run build`. Exits non-zero on any failure.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { bundleSizes } from './bundle-size.mjs';

const root = new URL('..', import.meta.url).pathname;
const failures = [];
const fail = (message) => failures.push(message);

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (path.endsWith('.ts')) yield path;
  }
}

// 1. Time and randomness only through the injected Scheduler and Random.
const TIME_OR_CHANCE = /\b(Math\.random|Date\.now|performance\.now|setTimeout|setInterval|setImmediate)\s*\(/;
// The playground's frame clock reads the wall clock only to pace animation frames (how much
// virtual time to show per frame) and to measure frame work; the simulation stays on virtual time.
const ALLOWED_NONDETERMINISM = new Set(['src/runtime/real-scheduler.ts', 'src/runtime/random.ts', 'src/clocks/hlc.ts', 'src/cli.ts', 'src/viz/playground/frame-clock.ts']);
// 2. Node built-ins only in Node-only entry points: the main entry must run in a browser.
const NODE_IMPORT = /(from\s+['"]node:|require\(\s*['"]node:|import\(\s*['"]node:)/;
const NODE_ONLY = (file) => file === 'src/cli.ts' || file.startsWith('src/node-only/');
// 3. Layers: every import, type-only ones too, points down this order (a layer may use those
// before it and itself, never one after it). The pure core sees only the runtime primitives.
const LAYERS = [['runtime', 'clocks'], ['raft'], ['transport'], ['node'], ['sim'], ['kv', 'ap', 'paxos', 'conformance', 'testing', 'viz', 'examples', 'node-only', 'cli.ts'], ['index.ts']];
const layerOf = (file) => {
  const top = relative(join(root, 'src'), file).split('/')[0];
  const rank = LAYERS.findIndex((names) => names.includes(top));
  if (rank < 0) fail(`${relative(root, file)}: src/${top} is in no layer; add it to LAYERS in scripts/lint.mjs`);
  return { top, rank };
};
const IMPORT_PATH = /(?:^|\s)(?:import|export)\s[^;]*?from\s+['"](\.[^'"]+)['"]/g;

for (const path of files(join(root, 'src'))) {
  const file = relative(root, path);
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, '');
    if (/^\s*(\*|\/\*)/.test(line)) return; // comments and TSDoc examples
    if (TIME_OR_CHANCE.test(code) && !ALLOWED_NONDETERMINISM.has(file)) {
      fail(`${file}:${i + 1}: wall-clock time or Math.random outside the scheduler/random modules`);
    }
    if (NODE_IMPORT.test(code) && !NODE_ONLY(file)) fail(`${file}:${i + 1}: Node built-in imported by browser-safe code`);
  });
  const from = layerOf(path);
  for (const [, target] of lines.filter((line) => !/^\s*(\*|\/\*|\/\/)/.test(line)).join('\n').matchAll(IMPORT_PATH)) {
    const to = layerOf(join(dirname(path), target).replace(/\.js$/, '.ts'));
    if (to.rank > from.rank) fail(`${file}: imports ${target}, but src/${to.top} is a layer above src/${from.top} (order: ${LAYERS.map((l) => l.join('|')).join(' → ')})`);
  }
}
console.log(`determinism, browser-safety and layering checks: ${failures.length === 0 ? 'ok' : 'FAILED'}`);

// 4. Package checks on the built output: publint, and types for every resolution mode.
const run = (command, args) => {
  try {
    const out = execFileSync(command, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    console.log(out.trim());
  } catch (error) {
    console.log(`${error.stdout ?? ''}${error.stderr ?? ''}`.trim());
    fail(`${command} ${args.join(' ')} failed`);
  }
};
run('npx', ['--no-install', 'publint', '--strict']);
run('npx', ['--no-install', 'attw', '--pack', '.', '--format', 'table-flipped']);

// 5. Tree-shaking: importing only LamportClock must not pull in Raft. Budgets: LamportClock 1 KB,
// RaftNode + InMemoryNetwork 20 KB (KB = 1,024 B; raised from 15 KB to 18 KB for client
// sessions and exactly-once forwarding, which every RaftNode carries, then for the split of
// RaftCore and RaftNode into modules by concern (~350 B and ~110 B min+gzip), the checks of
// commands and persisted state (~460 B), and the network's observer, which lets a simulated
// cluster trace every message without allocating (~170 B)). Print the sizes.
const RAFT_MARKERS = ['AppendEntries', 'RequestVote', 'eventemitter3', 'EventEmitter'];
console.log('\nbundle sizes (esbuild, minified, from dist/esm/index.js):');
for (const { label, names, code, min, gzip } of await bundleSizes()) {
  console.log(`  ${label.padEnd(28)} ${String(min).padStart(7)} B min  ${String(gzip).padStart(6)} B min+gzip`);
  if (names === 'LamportClock') {
    const leaked = RAFT_MARKERS.filter((marker) => code.includes(marker));
    if (leaked.length > 0) fail(`LamportClock bundle contains Raft code (${leaked.join(', ')})`);
    if (gzip > 1024) fail(`LamportClock bundle is ${gzip} B min+gzip, over the 1 KB budget`);
  }
  // Growing past the budget fails the build.
  if (names === 'RaftNode, InMemoryNetwork' && gzip > 20 * 1024) fail(`RaftNode + InMemoryNetwork bundle is ${gzip} B min+gzip, over the 20 KB budget`);
}

if (failures.length > 0) {
  console.error(`\nlint failed:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
  process.exit(1);
}
console.log('\nlint: all checks passed');
