// ScaleIO REST objects as the gateway returns them (reference section 4.5); only the fields
// the framework reads are typed, the rest is kept as unknown.

export interface Link {
  rel: string;
  href: string;
}

interface Base {
  id: string;
  name: string | null;
  links?: Link[];
  [field: string]: unknown;
}

export interface System extends Base {
  systemVersionName?: string;
  installId?: string;
  mdmMode?: string;
  mdmClusterState?: string;
  primaryMdmActorIpList?: string[];
  secondaryMdmActorIpList?: string[];
  tiebreakerMdmIpList?: string[];
  mdmManagementIpList?: string[];
  capacityAlertHighThresholdPercent?: number;
  capacityAlertCriticalThresholdPercent?: number;
}

export interface ProtectionDomain extends Base {
  systemId?: string;
  protectionDomainState?: string;
}

export interface StoragePool extends Base {
  protectionDomainId: string;
  sparePercentage?: number;
  /** The MDM's capacity alert thresholds for this pool (used % of non-spare capacity). */
  capacityAlertHighThreshold?: number;
  capacityAlertCriticalThreshold?: number;
}

export interface FaultSet extends Base {
  protectionDomainId: string;
}

export interface Sds extends Base {
  protectionDomainId: string;
  faultSetId?: string | null;
  ipList?: ({ ip: string; role: string } | { SdsIp: { ip: string; role: string } })[];
  port?: number;
  sdsState?: string;
  membershipState?: string;
  mdmConnectionState?: string;
  maintenanceState?: string;
}

export interface Device extends Base {
  deviceCurrentPathname?: string;
  deviceCurrentPathName?: string;
  storagePoolId: string;
  sdsId: string;
  deviceState?: string;
  errorState?: string;
  maxCapacityInKb?: number;
}

export interface Sdc extends Base {
  sdcIp?: string;
  sdcGuid?: string;
  mdmConnectionState?: string;
}

export interface Volume extends Base {
  sizeInKb: number;
  storagePoolId: string;
  volumeType: string;
  mappedSdcInfo?:
    { sdcId: string; sdcIp: string; limitIops?: number; limitBwInMbps?: number }[] | null;
}

/** A member as `queryMdmCluster` lists it. */
export interface MdmMemberView {
  id: string;
  name?: string | null;
  ips?: string[];
  managementIPs?: string[];
  role?: string;
  status?: string;
  versionInfo?: string;
}

/** `POST /api/instances/System::<id>/action/queryMdmCluster` (2.x+). */
export interface MdmClusterView {
  clusterState?: string;
  clusterMode?: string;
  goodNodesNum?: number;
  goodReplicasNum?: number;
  master?: MdmMemberView | null;
  slaves?: MdmMemberView[];
  tieBreakers?: MdmMemberView[];
  standbyMDMs?: MdmMemberView[];
}

export interface Alert extends Base {
  alertType?: string;
  severity?: string;
  affectedObject?: { type?: string; id?: string; objectId?: string };
  startTime?: string;
}

/** The IP list of an SDS in either the flat (2.5+/emulator) or wrapped (2017 goscaleio) form. */
export function sdsIps(sds: Sds): string[] {
  return (sds.ipList ?? []).map((e) => ("SdsIp" in e ? e.SdsIp.ip : e.ip));
}

/** The device path, whatever the version's spelling. */
export function devicePath(d: Device): string | undefined {
  return d.deviceCurrentPathname ?? d.deviceCurrentPathName;
}
