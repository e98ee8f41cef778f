/**
 * The reference tables of the guides name exactly what the code has: every option of
 * `RaftNodeOptions` and `ClusterOptions`, every event of `RaftNodeEvents`, and every option of
 * `RaftCoreOptions` in the paragraph on RaftCore. The names are read from the interfaces with the
 * TypeScript compiler, so a new option or event without a row fails here.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { root } from '../support/snippets.js';

/** Every .ts file under `dir` (relative to the root). */
function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourceFiles(`${dir}/${d.name}`) : d.name.endsWith('.ts') ? [`${dir}/${d.name}`] : [],
  );
}

/** The property names of the exported `interface name`, wherever in src/ it is declared, in declaration order. */
function members(name: string): string[] {
  for (const file of sourceFiles('src')) {
    const source = ts.createSourceFile(file, readFileSync(join(root, file), 'utf8'), ts.ScriptTarget.ES2022, true);
    const found = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name);
    if (found !== undefined) return found.members.flatMap((m) => (m.name !== undefined && ts.isIdentifier(m.name) ? [m.name.text] : []));
  }
  throw new Error(`no interface ${name} in src/`);
}

/** The first column (between backticks) of the markdown table that follows the line `after` in `doc`. */
function firstColumn(doc: string, after: RegExp): string[] {
  const lines = readFileSync(join(root, doc), 'utf8').split('\n');
  const start = lines.findIndex((line) => after.test(line));
  if (start < 0) throw new Error(`${doc}: no line matches ${after}`);
  const header = lines.findIndex((line, i) => i > start && line.startsWith('| '));
  const rows: string[] = [];
  for (let i = header + 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
    const cell = /^\|\s*`([^`]+)`/.exec(lines[i]!)?.[1];
    if (cell !== undefined) rows.push(cell);
  }
  return rows;
}

describe('docs/raft.md', () => {
  it('the RaftNode options table has a row for every option of RaftNodeOptions, and no other', () => {
    const rows = firstColumn('docs/raft.md', /^`RaftNode` options:$/);
    expect([...rows].sort()).toEqual(members('RaftNodeOptions').sort());
  });

  it('the events table has a row for every event of RaftNodeEvents, and no other', () => {
    const rows = firstColumn('docs/raft.md', /^## Events$/);
    expect([...rows].sort()).toEqual(members('RaftNodeEvents').sort());
  });

  it('the paragraph on RaftCore names every option of RaftCoreOptions', () => {
    const text = readFileSync(join(root, 'docs/raft.md'), 'utf8');
    const paragraph = text.slice(text.indexOf('`RaftCore` takes'), text.indexOf('### Driving RaftCore by hand'));
    const missing = members('RaftCoreOptions').filter((option) => !paragraph.includes(`\`${option}\``));
    expect(missing).toEqual([]);
  });
});

describe('docs/simulation.md', () => {
  it('the Cluster options table has a row for every option of ClusterOptions, and no other', () => {
    const rows = firstColumn('docs/simulation.md', /^## Options$/);
    expect([...rows].sort()).toEqual(members('ClusterOptions').sort());
  });
});
