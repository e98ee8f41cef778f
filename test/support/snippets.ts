/**
 * Running documentation snippets (markdown blocks, TSDoc `@example` blocks) as real modules:
 * each is written under test/docs/.tmp/ with `'raftkit'` resolved to src/index.ts (and
 * `'raftkit/conformance'`, `'raftkit/testing'`, `'raftkit/viz'` and `'raftkit/node'` to their entries), then imported,
 * so vitest transpiles it and top-level await works.
 *
 * Test files run in parallel, so each gets its own scratch directory; remove it when done
 * (tsconfig includes test/, so a stray .ts file there would break `npm run typecheck`).
 */
import { mkdirSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { vi } from 'vitest';

/** The repository root (with a trailing separator). */
export const root = fileURLToPath(new URL('../../', import.meta.url));
/** What `'raftkit'` resolves to in a snippet. */
export const entry = join(root, 'src/index.ts');
/** What `'raftkit/conformance'` resolves to in a snippet. */
export const conformanceEntry = join(root, 'src/conformance/index.ts');
/** What `'raftkit/testing'` resolves to in a snippet. */
export const testingEntry = join(root, 'src/testing/index.ts');
/** What `'raftkit/viz'` resolves to in a snippet. */
export const vizEntry = join(root, 'src/viz/index.ts');
/** What `'raftkit/node'` resolves to in a snippet. */
export const nodeEntry = join(root, 'src/node-only/index.ts');
/** Where snippets are written; git-ignored (test/docs/.gitignore). */
export const tmpRoot = join(root, 'test/docs/.tmp');

/** Creates an empty scratch directory `test/docs/.tmp/<name>/` and returns its path. */
export function scratchDir(name: string): string {
  const dir = join(tmpRoot, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Removes a scratch directory, and test/docs/.tmp/ itself once no other test file uses it. */
export function removeScratchDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  try {
    rmdirSync(tmpRoot);
  } catch {
    // Not empty (another test file is still running) or already gone.
  }
}

/** The snippet's source with every `from 'raftkit'` (and `'raftkit/conformance'`, `'raftkit/testing'`, `'raftkit/viz'`, `'raftkit/node'`) import pointing at its source. */
export function resolveRaftkit(code: string): string {
  return code
    .replace(/from\s+(['"])raftkit\1/g, `from ${JSON.stringify(entry)}`)
    .replace(/from\s+(['"])raftkit\/conformance\1/g, `from ${JSON.stringify(conformanceEntry)}`)
    .replace(/from\s+(['"])raftkit\/testing\1/g, `from ${JSON.stringify(testingEntry)}`)
    .replace(/from\s+(['"])raftkit\/viz\1/g, `from ${JSON.stringify(vizEntry)}`)
    .replace(/from\s+(['"])raftkit\/node\1/g, `from ${JSON.stringify(nodeEntry)}`);
}

/** Writes `code` (with `'raftkit'` resolved) to `file`, below a one-line `// header` comment. */
export function writeSnippet(file: string, code: string, header: string): void {
  writeFileSync(file, `// ${header}\n${resolveRaftkit(code)}`);
}

/**
 * Imports a snippet file written by {@link writeSnippet}, so it runs to completion (top-level
 * awaits included). Returns what it printed with `console.log` or `console.warn`, which is kept
 * off the test output.
 */
export async function importSnippet(file: string): Promise<string[]> {
  const printed: string[] = [];
  const capture = (...args: unknown[]): void => {
    printed.push(format(...args));
  };
  const spies = [vi.spyOn(console, 'log').mockImplementation(capture), vi.spyOn(console, 'warn').mockImplementation(capture)];
  try {
    await import(pathToFileURL(file).href);
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return printed;
}

/** One `@example` block of a TSDoc comment. */
export interface SourceExample {
  /** `path:line` of the `@example` tag, for test names. */
  readonly name: string;
  /** The code inside the ```ts fence. */
  readonly code: string;
}

/** Every `@example` block in a TypeScript source file, with the comment's `*` margins removed. */
export function examplesInSource(path: string, displayPath: string): SourceExample[] {
  const text = readFileSync(path, 'utf8');
  const examples: SourceExample[] = [];
  for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const startLine = text.slice(0, comment.index).split('\n').length;
    const lines = comment[0].split('\n').map((line) => line.replace(/^\s*\/?\*+\/?\s?/, ''));
    lines.forEach((line, i) => {
      if (!/^@example\b/.test(line)) return;
      const fence = lines.slice(i + 1);
      if (fence[0]?.trim() !== '```ts') throw new Error(`${displayPath}:${startLine + i}: @example without a \`\`\`ts fence`);
      const end = fence.findIndex((l, j) => j > 0 && l.trim() === '```');
      if (end < 0) throw new Error(`${displayPath}:${startLine + i}: unterminated \`\`\`ts fence`);
      examples.push({ name: `${displayPath}:${startLine + i}`, code: `${fence.slice(1, end).join('\n')}\n` });
    });
  }
  return examples;
}
