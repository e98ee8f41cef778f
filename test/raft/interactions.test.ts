/**
 * Data-driven interaction tests of the pure RaftCore, in the style of etcd-io/raft's
 * testdata/*.txt: every script in test/raft/interactions/ tells a story in prose (`#` lines)
 * and then drives a cluster command by command. Under each command, after a `----` line, is
 * the output it must print, up to the next blank line:
 *
 *     campaign 1
 *     ----
 *     1 ready:
 *       hard state: term=1 vote=1
 *       send 1→2 RequestVote term=1 last=0@t0
 *
 * The runner (test/support/interactions.ts) drives the cores itself: time passes only with
 * `elapse`, messages wait in per-destination mailboxes until `deliver`ed or `drop`ped, and
 * every node's election timeouts come from a SeededRandom with a fixed seed, so the output is
 * the same, byte for byte, on every run.
 *
 * Commands: cluster N [preVote=false] [checkQuorum=false] [election=LO-HI] [heartbeat=MS]
 * [maxEntries=N] [maxInflight=N] [chunk=N] · add-node ID… · load ID term=T [vote=V] log=T,T,…
 * · restart ID… · campaign ID · propose ID TEXT · elapse MS [ID…] · deliver|drop [to=IDS]
 * [from=IDS] [type=TYPES] · stabilize [rounds=N] · partition IDS | IDS · heal · compact ID
 * [index=N] · read ID [id=N] [lease] · transfer ID [to=ID] · add-learner|promote|remove LEADER ID
 * · status [ID…] · log [ID…] · mailbox.
 *
 * To rewrite the expected output of every script from what the code now prints (then read the
 * diff!): `npx vitest run test/raft/interactions.test.ts -u`, or set RAFTKIT_UPDATE=1. A
 * command with no `----` under it gets its output written the same way.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Interactions, parseScript, rewriteScript } from '../support/interactions.js';

const dir = join(import.meta.dirname, 'interactions');
const scripts = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();

function updating(): boolean {
  if (process.env.RAFTKIT_UPDATE === '1') return true;
  return expect.getState().snapshotState?.snapshotUpdateState === 'all'; // vitest -u
}

describe('interaction scripts', () => {
  it('finds the scripts', () => {
    expect(scripts.length).toBeGreaterThanOrEqual(8);
  });

  it.each(scripts)('%s', (file) => {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    const script = parseScript(text);
    const env = new Interactions();
    const outputs = script.commands.map((command) => env.run(command.text));
    if (updating()) {
      const rewritten = rewriteScript(script, outputs);
      if (rewritten !== text) writeFileSync(path, rewritten);
      return;
    }
    const wrong = script.commands.flatMap((command, k) => {
      const actual = (outputs[k] as string[]).join('\n');
      return command.expected?.join('\n') === actual ? [] : [{ command, actual }];
    });
    const first = wrong[0];
    if (first === undefined) return;
    const where = `test/raft/interactions/${file}:${first.command.line}: \`${first.command.text}\``;
    const others = wrong.slice(1).map((w) => `line ${w.command.line}`);
    const note = others.length > 0 ? ` (also wrong: ${others.join(', ')})` : '';
    const expected = first.command.expected === null ? '(no expected output: run with -u to write it)' : first.command.expected.join('\n');
    expect(first.actual, `${where} printed something else${note}; if the change is intended, rerun with -u and read the diff`).toBe(expected);
  });
});
