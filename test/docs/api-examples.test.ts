/**
 * Runs every `@example` block of the API documentation (TSDoc in src/, except the clocks, whose
 * examples test/clocks/doc-examples.test.ts runs), so the examples cannot silently rot. Each
 * block is written to test/docs/.tmp/api/ with `'raftkit'` resolved to src/index.ts, imported
 * (so it runs to completion, top-level awaits included) and type-checked with the project's
 * compiler options, since a reader will paste it into strict TypeScript.
 *
 * Also checks the documentation bar (BRIEF §6): every export of each entry point (src/index.ts,
 * src/conformance/index.ts, src/testing/index.ts, src/viz/index.ts, src/node-only/index.ts) has an `@example`, and every value export is used by at least one
 * tested example.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import {
  conformanceEntry,
  entry,
  testingEntry,
  vizEntry,
  nodeEntry,
  examplesInSource,
  importSnippet,
  removeScratchDir,
  root,
  scratchDir,
  writeSnippet,
  type SourceExample,
} from '../support/snippets.js';

/** How long one example may take (they run on virtual time, so far less in practice). */
const EXAMPLE_TIMEOUT_MS = 5_000;

/** Every .ts file under `dir` (relative to the root), depth first, in name order. */
function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((d) => (d.isDirectory() ? sourceFiles(`${dir}/${d.name}`) : d.name.endsWith('.ts') ? [`${dir}/${d.name}`] : []));
}

/** The clocks are run by test/clocks/doc-examples.test.ts; the CLI and its demos are not API. */
const notHere = (file: string): boolean => file.startsWith('src/clocks/') || file === 'src/cli.ts' || file.startsWith('src/examples/');

const apiFiles = sourceFiles('src').filter((file) => !notHere(file));
const examples: Array<SourceExample & { readonly file: string }> = [];
let dir = '';

for (const file of apiFiles) {
  examplesInSource(join(root, file), file).forEach((example, i) => {
    const slug = file.replace(/^src\//, '').replace(/\.ts$/, '').replace(/[/]/g, '-');
    examples.push({ ...example, file: `${slug}-${i + 1}.ts` });
  });
}

/** The names an example imports as values from 'raftkit' or one of its entries (`type` imports excluded). */
function valueImports(code: string): string[] {
  const names: string[] = [];
  for (const match of code.matchAll(/^import\s+(?!type\b)\{([^}]*)\}\s*from\s*(['"])raftkit(?:\/conformance|\/testing|\/viz|\/node)?\2/gm)) {
    for (const part of (match[1] ?? '').split(',')) {
      const name = part.trim();
      if (name !== '' && !name.startsWith('type ')) names.push(name.split(/\s+as\s+/)[0] as string);
    }
  }
  return names;
}

beforeAll(async () => {
  dir = scratchDir('api');
  for (const example of examples) writeSnippet(join(dir, example.file), example.code, `Generated from ${example.name} by test/docs/api-examples.test.ts.`);
  await import('../../src/index.js'); // transform the library once, outside the per-example timeout
  await import('../../src/conformance/index.js');
  await import('../../src/testing/index.js');
  await import('../../src/viz/index.js');
  await import('../../src/node-only/index.js');
});

afterAll(() => removeScratchDir(dir));

describe('API examples', () => {
  it('are found', () => {
    expect(examples.length).toBeGreaterThanOrEqual(100);
  });

  it('import what they use from raftkit', () => {
    for (const { name, code } of examples) expect(code, name).toMatch(/from 'raftkit(\/conformance|\/testing|\/viz|\/node)?'/);
  });

  it.each(examples)('$name runs', async ({ file }) => {
    await importSnippet(join(dir, file));
  }, EXAMPLE_TIMEOUT_MS);

  it('type-check under the project settings', () => {
    const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
    if (config === undefined) throw new Error('cannot read tsconfig.json');
    const files = examples.map((example) => join(dir, example.file));
    // The examples import src/index.ts by its path, which TypeScript allows only without emit.
    const program = ts.createProgram(files, { ...config.options, noEmit: true, allowImportingTsExtensions: true });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file !== undefined && files.includes(d.file.fileName))
      .map((d) => {
        const file = d.file as ts.SourceFile;
        const { line } = file.getLineAndCharacterOfPosition(d.start ?? 0);
        const example = examples.find((e) => join(dir, e.file) === file.fileName);
        // Line 1 of the written file is the header comment: line + 1 - 1 is the line in the block.
        return `${example?.name} (block line ${line}): ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
    expect(problems).toEqual([]);
  }, 60_000);
});

const entryPoints = [entry, conformanceEntry, testingEntry, vizEntry, nodeEntry];

describe('the API documentation', () => {
  it.each(entryPoints.map((path) => relative(root, path)))('has an @example on every export of %s', (file) => {
    const path = join(root, file);
    const program = ts.createProgram([path], { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, noEmit: true });
    const checker = program.getTypeChecker();
    const index = checker.getSymbolAtLocation(program.getSourceFile(path) as ts.SourceFile) as ts.Symbol;
    const missing = checker.getExportsOfModule(index).flatMap((symbol) => {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const declarations = target.declarations ?? [];
      const documented = declarations.some((d) => ts.getJSDocTags(d).some((tag) => tag.tagName.text === 'example'));
      return documented ? [] : [`${symbol.name} (${relative(root, declarations[0]?.getSourceFile().fileName ?? '?')})`];
    });
    expect(missing).toEqual([]);
  });

  it('uses every value export of each entry point in a tested example', async () => {
    const exported = [
      ...Object.keys(await import('../../src/index.js')),
      ...Object.keys(await import('../../src/conformance/index.js')),
      ...Object.keys(await import('../../src/testing/index.js')),
      ...Object.keys(await import('../../src/viz/index.js')),
      ...Object.keys(await import('../../src/node-only/index.js')),
    ];
    // The clock examples count too: test/clocks/doc-examples.test.ts runs them.
    const clockExamples = sourceFiles('src/clocks').flatMap((file) => examplesInSource(join(root, file), file));
    const used = new Set([...examples, ...clockExamples].flatMap(({ code }) => valueImports(code)));
    expect(exported.filter((name) => !used.has(name))).toEqual([]);
  });
});
