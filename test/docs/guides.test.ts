/**
 * Runs every ```ts block of the Raft and simulation guides that is marked runnable (an
 * `<!-- run -->` line right before the block), so the guides cannot silently rot. Each block is
 * written to test/docs/.tmp/ with `'raftkit'` resolved to src/index.ts, then imported: vitest
 * transpiles it, and top-level await works. Unmarked blocks are illustrations and are not run.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { format } from 'node:util';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tmp = join(root, 'test/docs/.tmp');
const entry = join(root, 'src/index.ts');
const guides = ['docs/raft.md', 'docs/simulation.md'];

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
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
});

// Leave nothing behind for tsc (the tsconfig includes test/) or git.
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

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
    const source = code.replace(/from 'raftkit'/g, `from ${JSON.stringify(entry)}`);
    writeFileSync(file, `// Generated from the guides by test/docs/guides.test.ts.\n${source}`);
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      printed.push(format(...args));
    });
    try {
      await import(pathToFileURL(file).href);
    } finally {
      log.mockRestore();
    }
    expect(printed.length).toBeGreaterThan(0);
  });
});
