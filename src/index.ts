/**
 * raftkit: Raft consensus, logical clocks and a deterministic cluster simulator for TypeScript.
 *
 * @packageDocumentation
 * @module raftkit
 */

// Logical clocks
export { LamportClock } from './clocks/lamport.js';
export { VectorClock, compareVectors, mergeVectors, parseVectorTimestamp } from './clocks/vector.js';
export type { VectorOrder, VectorTimestamp } from './clocks/vector.js';
export { HybridLogicalClock, compareHlc, hlcToString, parseHlc } from './clocks/hlc.js';
export type { HlcTimestamp, HybridLogicalClockOptions } from './clocks/hlc.js';
export { ClockError, ClockDriftError } from './clocks/errors.js';
export type { ClockErrorCode } from './clocks/errors.js';

// Raft
export { RaftNode } from './node/raft-node.js';
export type { RaftNodeOptions, RaftNodeEvents, ProposalResult, NodeRole } from './node/raft-node.js';
export { RaftCore } from './raft/core.js';
export type { RaftCoreOptions } from './raft/options.js';
export type { Ready, ReadState, ForwardState } from './raft/ready.js';
export type { RaftStatus, FollowerProgress } from './raft/status.js';
export type { MembershipChange } from './raft/membership.js';
export { validateMessage } from './raft/messages.js';
export type {
  Message,
  MessageType,
  RequestVote,
  RequestVoteResponse,
  PreVote,
  PreVoteResponse,
  AppendEntries,
  AppendEntriesResponse,
  TimeoutNow,
  ReadIndex,
  ReadIndexResponse,
  Propose,
  ProposeResponse,
  ProposeOutcome,
  InstallSnapshot,
  InstallSnapshotResponse,
  ValidationLimits,
} from './raft/messages.js';
export { MemoryStorage } from './raft/storage.js';
export type { Storage, StorageUpdate, PersistedState } from './raft/storage.js';
export type { StateMachine } from './raft/state-machine.js';
export type { LogEntry, EntryKind, HardState, LogPosition, Role, NodeId, Membership, Snapshot } from './raft/types.js';
export {
  RaftError,
  NotLeaderError,
  LeadershipLostError,
  TimeoutError,
  NodeStoppedError,
  AbortedError,
  InvalidMessageError,
  ApplyError,
  TransferError,
  MembershipError,
  SessionExpiredError,
} from './raft/errors.js';
export { ClientSession } from './raft/sessions.js';
export type { SessionTag } from './raft/sessions.js';

// Transport
export type { Transport, Envelope } from './transport/transport.js';
export { InMemoryNetwork } from './transport/memory.js';
export type {
  InMemoryNetworkOptions,
  NetworkConditions,
  Latency,
  FilterVerdict,
  MessageFilter,
  DropReason,
  NetworkEvents,
  NetworkObserver,
  NetworkStats,
  TrafficCounts,
  TypeCounts,
  MemoryTransport,
} from './transport/memory.js';

// Simulation
export type { Scheduler, Cancel } from './runtime/scheduler.js';
export { VirtualScheduler } from './sim/virtual-scheduler.js';
export type { VirtualSchedulerOptions, RunUntilOptions } from './sim/virtual-scheduler.js';
export { RealScheduler } from './runtime/real-scheduler.js';
export type { Random } from './runtime/random.js';
export { SeededRandom, MathRandom } from './runtime/random.js';
export { Cluster } from './sim/cluster.js';
export type { ClusterOptions, ClusterNetworkOptions, AppliedEntry, ClusterProposalResult } from './sim/cluster.js';
export type { RoundReport } from './sim/mini-project.js';
export { InvariantViolation } from './sim/invariants.js';
export type { SafetyProperty } from './sim/invariants.js';
export type {
  TraceEvent,
  TraceBase,
  TraceDocument,
  RoleEvent,
  TermEvent,
  VoteEvent,
  VoteRefusal,
  LogEvent,
  AppendEvent,
  SnapshotEvent,
  TimeoutEvent,
  ClientEvent,
  MessageEvent,
  NodeFaultEvent,
  NetworkFaultEvent,
  NetworkConfigEvent,
  ClockEvent,
} from './sim/trace.js';
export { TRACE_VERSION } from './sim/trace.js';
export { NodeClock } from './sim/node-clock.js';
export type { ClockSetting, ClockReading } from './sim/node-clock.js';

// State machines
export { KeyValueStore } from './kv/key-value-store.js';
export type { KeyValueCommand, KeyValueResult } from './kv/key-value-store.js';

// The AP store: available in a partition, eventually and causally consistent
export { ApReplica } from './ap/replica.js';
export type { ApReplicaOptions, ApReplicaEvents, ApReplicaStats, ApReadResult, ApVersion } from './ap/replica.js';
export { ApSession } from './ap/session.js';
export { ApError, SessionBehindError } from './ap/errors.js';
export type { ApErrorCode } from './ap/errors.js';
export { validateApMessage } from './ap/messages.js';
export type { ApMessage, ApDigest, ApDelta, ApWrite } from './ap/messages.js';

// Paxos, for comparison with Raft
export { SynodNode } from './paxos/synod.js';
export type { SynodNodeOptions, SynodNodeEvents, Backoff } from './paxos/synod.js';
export { MultiPaxosNode } from './paxos/multi-paxos.js';
export type { MultiPaxosNodeOptions, MultiPaxosNodeEvents, MultiPaxosRole, PaxosStateMachine } from './paxos/multi-paxos.js';
export { compareBallots } from './paxos/ballot.js';
export type { Ballot } from './paxos/ballot.js';
export { validateSynodMessage, validateMultiPaxosMessage } from './paxos/messages.js';
export type {
  AcceptedValue,
  AcceptedSlot,
  LogValue,
  SynodMessage,
  SynodPrepare,
  SynodPromise,
  SynodAccept,
  SynodAccepted,
  SynodNack,
  SynodChosen,
  MultiPaxosMessage,
  LogPrepare,
  LogPromise,
  LogAccept,
  LogAccepted,
  LogNack,
  LogHeartbeat,
  LogCatchUp,
  LogChosen,
} from './paxos/messages.js';
export { MemoryAcceptorStorage } from './paxos/storage.js';
export type { AcceptorStorage, AcceptorState, AcceptorUpdate } from './paxos/storage.js';
export { PaxosChecker } from './paxos/checker.js';
export type { PaxosCheckerOptions } from './paxos/checker.js';
export { PaxosError, PaxosNotLeaderError, PaxosSafetyViolation } from './paxos/errors.js';
export type { PaxosProperty, PaxosCheckEvent } from './paxos/errors.js';
export { PaxosSimulation, SynodCluster, MultiPaxosCluster } from './paxos/simulation.js';
export type { PaxosSimulationOptions, SynodClusterOptions, MultiPaxosClusterOptions, MultiPaxosProposal } from './paxos/simulation.js';
