/**
 * One line of prose per message, for traces and narrated runs.
 */
import type { Message } from '../raft/messages.js';

/** A short human description of a message, for traces. */
export function summarize(m: Message): string {
  switch (m.type) {
    case 'RequestVote':
      return `last log ${m.lastLogIndex}:${m.lastLogTerm}${m.force === true ? ', forced' : ''}`;
    case 'PreVote':
      return `last log ${m.lastLogIndex}:${m.lastLogTerm}`;
    case 'RequestVoteResponse':
    case 'PreVoteResponse':
      return m.voteGranted ? 'granted' : 'denied';
    case 'AppendEntries':
      return `${m.entries.length === 0 ? 'heartbeat' : `${m.entries.length} entries`} after ${m.prevLogIndex}:${m.prevLogTerm}, commit ${m.leaderCommit}`;
    case 'AppendEntriesResponse':
      return m.success ? `ok through ${m.index}` : `rejected at ${m.index}`;
    case 'TimeoutNow':
      return 'campaign now';
    case 'InstallSnapshot':
      return `snapshot through ${m.index}:${m.lastTerm}, ${m.data.length} chars from ${m.offset}${m.done ? ', last' : ''}`;
    case 'InstallSnapshotResponse':
      return m.done ? `snapshot through ${m.index} installed` : `snapshot through ${m.index}: next chunk at ${m.offset}`;
    case 'ReadIndex':
      return `read #${m.id}`;
    case 'Propose':
      return m.kind === 'session' ? `forwarded session opening #${m.id}` : `forwarded proposal #${m.id}${m.session ? ` (session ${m.session.id}, #${m.session.seq})` : ''}`;
    case 'ProposeResponse':
      return m.outcome === 'appended' ? `proposal #${m.id} at ${m.index}` : `proposal #${m.id} ${m.outcome}`;
    case 'ReadIndexResponse':
      return m.ok ? `read #${m.id} at ${m.index}` : `read #${m.id} refused`;
  }
}
