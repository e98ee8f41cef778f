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
      return appendSummary(m.entries.length, m.prevLogIndex, m.prevLogTerm, m.leaderCommit);
    case 'AppendEntriesResponse':
      return answerSummary(m.success, m.index);
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

/** What {@link summarize} says of an AppendEntries with `count` entries (from its fields alone). */
export function appendSummary(count: number, prevIndex: number, prevTerm: number, commit: number): string {
  return `${count === 0 ? 'heartbeat' : `${count} entries`} after ${prevIndex}:${prevTerm}, commit ${commit}`;
}

/** What {@link summarize} says of an AppendEntriesResponse. */
export function answerSummary(success: boolean, index: number): string {
  return success ? `ok through ${index}` : `rejected at ${index}`;
}
