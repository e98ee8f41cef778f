// Draws the example pictures of docs/pictures/ with raftkit/viz, from the built package
// (`npm run pictures` builds first). Every picture is a pure function of its seed, so running
// this again changes a file only when the simulator or the drawing changed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Cluster } from '../dist/esm/index.js';
import { lamportExampleSteps, logsOf, toClocksSvg, toLogSvg, toSpaceTimeSvg, vectorExampleSteps } from '../dist/esm/viz/index.js';

const dir = new URL('../docs/pictures/', import.meta.url);
mkdirSync(dir, { recursive: true });
const write = (name, text) => {
  writeFileSync(new URL(name, dir), text);
  console.log(`docs/pictures/${name}: ${text.length} bytes`);
};

// A leader election, the leader's crash and the next election, on 3 nodes.
const election = new Cluster({ size: 3, seed: 1 });
const first = await election.waitForLeader();
await election.propose('x');
election.crash(first);
await election.waitForLeader();
await election.run(60);
write('election.svg', toSpaceTimeSvg(election.trace(), { heartbeats: false, pxPerMs: 1.2, title: 'An election, a crash of the leader, and the next election' }));

// Logs that diverge in a partition: the old leader appends what it can never commit.
const split = new Cluster({ size: 5, seed: 3 });
const old = await split.waitForLeader();
await split.propose('a');
const [buddy, ...rest] = split.ids.filter((id) => id !== old);
split.partition([old, buddy], rest);
split.node(old).submit('lost 1');
split.node(old).submit('lost 2');
await split.runUntil(() => split.leader() !== undefined && split.leader() !== old);
await split.propose('b');
await split.propose('c');
write('partition-logs.svg', toLogSvg(logsOf(split), { title: 'Logs in a partition: the old leader (left with one follower) cannot commit' }));

write('lamport.svg', toClocksSvg(lamportExampleSteps, { timestamps: 'lamport', title: "The seed's Lamport clock example" }));
write('vector-clocks.svg', toClocksSvg(vectorExampleSteps, { focus: 'B2', title: 'Vector clocks: the past (blue), future (green) and concurrent events (amber) of B2' }));
