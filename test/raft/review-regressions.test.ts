/** Regressions for bugs found in review of reads and forwarding (each failed before its fix). */
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/raft/messages.js';
import { CoreHarness } from '../support/core-harness.js';

describe('read rounds', () => {
  it('an answer to a stale-term heartbeat confirms no read round of a restarted leader (no stale read)', () => {
    const h = new CoreHarness([{ id: '1' }, { id: '2' }, { id: '3' }]);
    h.elect('1');
    for (let i = 0; i < 10; i++) h.heartbeat('1'); // this incarnation reaches read round ~10
    h.core('1').elapse(50);
    h.flush();
    const held = h.queue.find((m) => m.type === 'AppendEntries' && m.to === '2')!; // delayed in the network
    h.queue = [];
    h.crash('1');
    h.boot('1'); // rounds restart from 0
    h.elect('1');
    expect(h.core('1').term).toBe(2);
    h.core('2').step(held); // the pre-crash heartbeat arrives: a stale-term answer
    h.flush();
    const staleAnswer = h.queue.find((m) => m.to === '1' && m.type === 'AppendEntriesResponse')!;
    expect(staleAnswer).toMatchObject({ term: 2, round: 0 }); // it echoes no round
    h.queue = [];
    // Node 1 is cut off; the others elect a new leader and commit a write.
    const cut = (m: Message) => m.to !== '1' && m.from !== '1';
    h.core('2').elapse(400);
    h.core('3').elapse(160);
    h.deliverAll(cut);
    const newLeader = ['2', '3'].find((id) => h.core(id).role === 'leader')!;
    h.core(newLeader).propose('x=1');
    h.deliverAll(cut);
    // A read on node 1 (which still believes it leads): its round is lost, the old answer arrives.
    h.core('1').read(7);
    h.flush();
    h.queue = h.queue.filter((m) => m.from !== '1');
    h.core('1').step(staleAnswer);
    expect(h.core('1').ready().reads).toEqual([]); // not confirmed
    h.core('1').read(8, { lease: true });
    expect(h.core('1').ready().reads).toEqual([]); // and no lease either
    // Even an answer that did echo a round this incarnation never issued is ignored.
    h.core('1').step({ ...staleAnswer, round: 11 } as Message);
    expect(h.core('1').ready().reads).toEqual([]);
  });
});

describe('forwarded proposals', () => {
  it('a duplicated Propose is appended once and answered with the same index', () => {
    const h = new CoreHarness([{ id: '1' }, { id: '2' }, { id: '3' }]);
    h.elect('1');
    const before = h.core('1').lastLogIndex;
    h.core('2').forward(5, 'incr');
    h.flush();
    const propose = h.queue.find((m) => m.type === 'Propose')!;
    h.queue.push(propose); // the network delivers it twice
    h.deliverAll();
    const commands = h.core('1').entries(before + 1).filter((e) => e.command === 'incr');
    expect(commands).toHaveLength(1);
  });

  it('a Propose in an old term is answered at once (not left to time out), as unknown: that node may have led the old term', () => {
    const h = new CoreHarness([{ id: '1', term: 3 }, { id: '2', term: 1 }, { id: '3' }]);
    const answers: Message[] = [];
    h.core('1').step({ type: 'Propose', from: '2', to: '1', term: 1, id: 1, command: 'x' });
    h.flush();
    answers.push(...h.queue.filter((m) => m.type === 'ProposeResponse'));
    expect(answers).toEqual([{ type: 'ProposeResponse', from: '1', to: '2', term: 3, id: 1, index: 0, outcome: 'unknown' }]);
  });
});
