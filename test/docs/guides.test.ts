/**
 * Runs every ```ts block of the Raft and simulation guides that is marked runnable (an
 * `<!-- run -->` line right before the block), so the guides cannot silently rot. Each block is
 * written to test/docs/.tmp/guides/ with `'raftkit'` resolved to src/index.ts, then imported:
 * vitest transpiles it, and top-level await works. Unmarked blocks are illustrations and are not run,
 * except raft.md's file storage, which runs through every check of `raftkit/conformance`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runChecks, storageChecks } from '../../src/conformance/index.js';
import type { Storage } from '../../src/raft/storage.js';
import ts from 'typescript';
import { importSnippet, removeScratchDir, root, scratchDir, tmpRoot, writeSnippet } from '../support/snippets.js';

const tmp = join(tmpRoot, 'guides');
const guides = ['README.md', 'docs/raft.md', 'docs/simulation.md', 'docs/operations.md', 'docs/storage.md', 'docs/deploy.md', 'docs/consistency.md', 'docs/paxos.md', 'docs/courseware.md'];

interface Snippet {
  readonly name: string;
  readonly file: string;
  readonly code: string;
}

/** The runnable blocks of a markdown file: a ```ts fence on the line right after `<!-- run -->`. */
function runnableBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^<!--\s*run\s*-->[ \t]*\r?\n```ts\r?\n([\s\S]*?)^```[ \t]*$/gm)].map((m) => m[1] ?? '');
}

function snippets(doc: string): Snippet[] {
  const markdown = readFileSync(join(root, doc), 'utf8');
  const slug = doc.replace(/^docs\//, '').replace(/\.md$/, '');
  return runnableBlocks(markdown).map((code, i) => ({
    name: `${doc} #${i + 1}`,
    file: join(tmp, `${slug}-${i + 1}.ts`),
    code,
  }));
}

const all = guides.flatMap(snippets);

beforeAll(() => {
  scratchDir('guides');
});

// Leave nothing behind for tsc (the tsconfig includes test/) or git.
afterAll(() => removeScratchDir(tmp));

describe('the guides', () => {
  it('have runnable examples', () => {
    // docs/deploy.md is mostly shell for operators: its three snippets run a server each.
    for (const doc of guides) expect(snippets(doc).length, doc).toBeGreaterThanOrEqual(doc === 'docs/deploy.md' ? 3 : 5);
  });

  it('mark only ts blocks as runnable', () => {
    for (const doc of guides) {
      const text = readFileSync(join(root, doc), 'utf8');
      const markers = text.match(/^<!--\s*run\s*-->/gm)?.length ?? 0;
      expect(runnableBlocks(text).length, `${doc}: a <!-- run --> marker not followed by a ts block`).toBe(markers);
    }
  });
});

describe.each(all)('$name', ({ file, code }) => {
  it('runs without throwing', async () => {
    expect(code).toMatch(/from 'raftkit(\/conformance|\/testing|\/viz|\/node)?'/);
    writeSnippet(file, code, 'Generated from the guides by test/docs/guides.test.ts.');
    const printed = await importSnippet(file);
    expect(printed.length).toBeGreaterThan(0);
  });
});

describe('the file storage of docs/raft.md', () => {
  it('passes every storage check of raftkit/conformance, reopened on the same file for every read', async () => {
    const blocks = [...readFileSync(join(root, 'docs/raft.md'), 'utf8').matchAll(/^```ts\r?\n([\s\S]*?)^```[ \t]*$/gm)].map((m) => m[1] ?? '');
    const code = blocks.find((block) => /^class WholeFileStorage\b/m.test(block));
    expect(code, 'a ts block of docs/raft.md defines class WholeFileStorage').toBeDefined();
    const file = join(tmp, 'whole-file-storage.ts');
    writeSnippet(file, `${code}\nexport { WholeFileStorage };\n`, 'Generated from docs/raft.md by test/docs/guides.test.ts.');
    const { WholeFileStorage } = (await import(pathToFileURL(file).href)) as { WholeFileStorage: new (path: string) => Storage };

    const dirs: string[] = [];
    const results = await runChecks(
      storageChecks({
        create: async () => {
          const dir = await mkdtemp(join(tmpdir(), 'raftkit-file-storage-'));
          dirs.push(dir);
          const path = join(dir, 'raft.json');
          return { storage: new WholeFileStorage(path), reopen: () => new WholeFileStorage(path), destroy: () => rm(dir, { recursive: true, force: true }) };
        },
      }),
    );
    expect(results.length).toBeGreaterThanOrEqual(9);
    expect(results.filter((r) => !r.passed).map((r) => `${r.name}: ${(r.error as Error).message}`)).toEqual([]);
    for (const dir of dirs) await expect(readFile(join(dir, 'raft.json'), 'utf8'), 'destroy() removed the file').rejects.toThrow(/ENOENT/);

    // A reader pastes it into strict TypeScript: it type-checks under the project's settings.
    const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
    if (config === undefined) throw new Error('cannot read tsconfig.json');
    const program = ts.createProgram([file], { ...config.options, noEmit: true, allowImportingTsExtensions: true });
    const problems = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === file);
    expect(problems.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
  });
});
