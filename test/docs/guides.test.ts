/**
 * Runs every ```ts block of the Raft and simulation guides that is marked runnable (an
 * `<!-- run -->` line right before the block), so the guides cannot silently rot. Each block is
 * written to test/docs/.tmp/guides/ with `'raftkit'` resolved to src/index.ts, then imported:
 * vitest transpiles it, and top-level await works. Unmarked blocks are illustrations and are not run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importSnippet, removeScratchDir, root, scratchDir, tmpRoot, writeSnippet } from '../support/snippets.js';

const tmp = join(tmpRoot, 'guides');
const guides = ['README.md', 'docs/raft.md', 'docs/simulation.md', 'docs/operations.md'];

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
    for (const doc of guides) expect(snippets(doc).length, doc).toBeGreaterThanOrEqual(5);
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
    expect(code).toContain("from 'raftkit'");
    writeSnippet(file, code, 'Generated from the guides by test/docs/guides.test.ts.');
    const printed = await importSnippet(file);
    expect(printed.length).toBeGreaterThan(0);
  });
});
