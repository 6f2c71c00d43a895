// The emulated system's objects, as the MDM keeps them. REST and scli views are derived.
export type Component = "mdm" | "sds" | "sdc" | "lia" | "gateway";
export type PackageFlavor = "rpm" | "deb";
/** The components that run as a process the MDM watches (and that can die). */
export type Daemon = "mdm" | "sds" | "sdc";

export interface InstalledPackage {
  component: Component;
  version: string; // e.g. "2.0-5014.0"
  flavor: PackageFlavor;
  installedAt: number;
}

/** A machine, known by its IP; its emulated root dir (if any) receives files and devices. */
export interface NodeRecord {
  ip: string;
  root: string | undefined;
  packages: Map<Component, InstalledPackage>;
  /** MDM package role chosen at install time (MDM_ROLE_IS_MANAGER). */
  mdmIsManager: boolean;
  mdmAlive: boolean;
  sdsAlive: boolean;
  sdcAlive: boolean;
  /** Processes that died (killed) rather than being stopped: their service reports "failed". */
  crashed: Set<Daemon>;
  /** SDC settings: manager IPs from MDM_IP / drv_cfg, and its GUID (kept across reinstalls). */
  sdcMdmIps: string[];
  sdcGuid: string;
  liaToken: string | undefined;
  gatewayPassword: string | undefined;
  /** OS packages installed through the fake apt-get/yum (prerequisites). */
  osPackages: Set<string>;
  /** Device sizes declared for this node (path -> KB), used when a device joins a pool. */
  deviceSizesKb: Map<string, number>;
}

export type MdmClusterRole = "master" | "slave" | "tb" | "standby";

export interface MdmMember {
  id: string; // 16 hex, shown with 0x in query_cluster
  name: string;
  ips: string[];
  managementIps: string[];
  isManager: boolean;
  role: MdmClusterRole;
  port: number;
}

export type ClusterMode = "1_node" | "3_node" | "5_node";

export interface User {
  id: string;
  name: string;
  role: string;
  password: string; // kept only in memory, never rendered
  passwordChangeRequired: boolean;
}

export interface ProtectionDomain {
  id: string;
  name: string;
}

export interface FaultSet {
  id: string;
  name: string;
  protectionDomainId: string;
}

export interface StoragePool {
  id: string;
  name: string;
  protectionDomainId: string;
  sparePercentage: number;
  capacityAlertHighThreshold: number;
  capacityAlertCriticalThreshold: number;
  zeroPaddingEnabled: boolean;
  useRmcache: boolean;
  rebuildEnabled: boolean;
  rebalanceEnabled: boolean;
  checksumEnabled: boolean;
  useRfcache: boolean;
}

export interface Sds {
  id: string;
  name: string;
  protectionDomainId: string;
  faultSetId: string | null;
  ipList: { ip: string; role: string }[];
  port: number;
  /** Removal in progress: still listed while its data moves away. */
  removing: boolean;
  maintenance: boolean;
  /** Writes tracked while in maintenance or disconnected, resynchronised on return. */
  bckRebuildPendingKb: number;
}

export interface Device {
  id: string;
  name: string;
  path: string;
  sdsId: string;
  storagePoolId: string;
  sizeKb: number;
  capacityLimitKb: number;
  removing: boolean;
  /** Injected device failure. */
  failed: boolean;
}

export interface SdcMapping {
  sdcId: string;
  limitIops: number;
  limitBwInMbps: number;
}

export interface Volume {
  id: string;
  name: string;
  storagePoolId: string;
  vtreeId: string;
  sizeKb: number;
  volumeType: "ThinProvisioned" | "ThickProvisioned" | "Snapshot";
  ancestorVolumeId: string | null;
  creationTime: number; // epoch seconds
  /** Net KB of data written (thin volumes allocate on write). */
  writtenKb: number;
  /** Where the two copies live: "sdsA|sdsB" (sorted) -> net KB. */
  placement: Map<string, number>;
  mappings: SdcMapping[];
  /** Internal filler used by the "write into a pool" knob; never listed. */
  hidden: boolean;
  workload: Workload;
}

export interface Workload {
  readIops: number;
  writeIops: number;
  ioSizeKb: number;
}

export interface Sdc {
  id: string;
  name: string | null;
  ip: string;
  guid: string;
  approved: boolean;
}

export type JobKind = "bckRebuild" | "rebalance" | "moving";

/** A data movement that completes after its KB have been copied at the pool's rate. */
export interface Job {
  kind: JobKind;
  storagePoolId: string;
  totalKb: number;
  doneKb: number;
  onDone: () => void;
}
