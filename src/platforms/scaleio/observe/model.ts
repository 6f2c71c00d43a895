// The cluster as the gateway last showed it, typed: what the health checks, the repairs and
// the UI's plots read. Built by one observation (a fixed handful of gateway requests,
// whatever the cluster's size); sizes in KB as ScaleIO counts them.

export interface ObservedMdm {
  id: string;
  name: string | null;
  ips: string[];
  role: "master" | "slave" | "tieBreaker" | "standby";
  /** `Normal` when it answers the cluster; anything else is down. */
  status: string;
}

export interface ObservedMdmCluster {
  /** `ThreeNodes`, `FiveNodes`, `OneNode` (queryMdmCluster's words). */
  mode: string;
  /** `ClusteredNormal`, `ClusteredDegraded`, `NotClustered`, … */
  state: string;
  members: ObservedMdm[];
}

export interface Throughput {
  iops: number;
  kbPerSecond: number;
}

export interface ObservedPerformance {
  read: Throughput;
  write: Throughput;
  /** The slowest device's average latency (µs, reads and writes), 0 when idle. */
  latencyMicros: number;
}

export interface ObservedPool {
  id: string;
  name: string | null;
  protectionDomainId: string;
  protectionDomainName: string | null;
  sparePercentage: number;
  maxKb: number;
  limitKb: number;
  spareKb: number;
  inUseKb: number;
  /** In use over non-spare capacity: the MDM's measure for its capacity alerts. */
  usedPercent: number;
  freeForVolumesKb: number;
  degradedKb: number;
  failedKb: number;
  /** Forward and backward rebuild still to do, and what is being moved right now. */
  rebuildRemainingKb: number;
  rebuildActiveKb: number;
  rebalanceRemainingKb: number;
  /** The spare percentage the largest fault unit needs (rounded up); 0 without devices. */
  largestFaultUnitPercent: number;
  /** Fault units (fault sets, or SDSs outside any) with devices in this pool. */
  faultUnits: number;
  performance: ObservedPerformance;
}

export interface ObservedSds {
  id: string;
  name: string | null;
  ips: string[];
  protectionDomainId: string;
  faultSetId: string | null;
  connected: boolean;
  state: string | undefined;
  maintenance: string | undefined;
  performance: ObservedPerformance;
}

export interface ObservedDevice {
  id: string;
  name: string | null;
  path: string | undefined;
  sdsId: string;
  poolId: string;
  /** `Normal` when active. */
  state: string | undefined;
  errorState: string | undefined;
  maxKb: number;
}

export interface ObservedSdc {
  id: string;
  ip: string | undefined;
  guid: string | undefined;
  connected: boolean;
}

export interface ObservedAlert {
  type: string;
  severity: string;
  objectType: string | undefined;
  objectId: string | undefined;
}

export interface ObservedCluster {
  at: number;
  /** When its reads began: whatever changed before then shows in it. */
  startedAt?: number;
  systemId: string;
  systemName: string | null;
  mdmMode: string | undefined;
  mdm: ObservedMdmCluster;
  capacityAlertThresholds: { high: number; critical: number };
  pools: ObservedPool[];
  sds: ObservedSds[];
  devices: ObservedDevice[];
  sdcs: ObservedSdc[];
  alerts: ObservedAlert[];
  /** Gateway requests this observation took. */
  requests: number;
}
