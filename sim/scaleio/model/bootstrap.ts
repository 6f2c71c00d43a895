// Builds a ready cluster in one call (for `dev scaleio` and for tests that are not about
// building one): the same steps an operator runs with scli, applied to the model directly.
import type { ScaleioSystem } from "./system.js";
import type { ClusterMode } from "./types.js";
import { KB_PER_GB } from "./units.js";

export interface BootstrapOptions {
  mode?: ClusterMode;
  /** First node IP; nodes get consecutive addresses (10.20.0.11, .12, ...). */
  firstIp?: string;
  sdsCount?: number;
  deviceGb?: number;
  devicesPerSds?: number;
  sdcCount?: number;
  password?: string;
  systemName?: string;
  protectionDomain?: string;
  storagePool?: string;
}

export function nthIp(first: string, n: number): string {
  const p = first.split(".").map(Number);
  p[3] = (p[3] ?? 0) + n;
  return p.join(".");
}

export function bootstrap(sys: ScaleioSystem, o: BootstrapOptions = {}): void {
  const mode = o.mode ?? "3_node";
  const first = o.firstIp ?? "10.20.0.11";
  const members = mode === "1_node" ? 1 : mode === "3_node" ? 3 : 5;
  const managers = mode === "1_node" ? 1 : mode === "3_node" ? 2 : 3;
  const sdsCount = o.sdsCount ?? 3;
  const nodeCount = Math.max(members, sdsCount, o.sdcCount ?? 0);
  for (let i = 0; i < nodeCount; i++) {
    const ip = nthIp(first, i);
    if (i < members)
      sys.installPackage(ip, "mdm", undefined, "rpm", {
        MDM_ROLE_IS_MANAGER: i < managers ? "1" : "0",
      });
    if (i < sdsCount) {
      sys.installPackage(ip, "sds");
      for (let d = 0; d < (o.devicesPerSds ?? 1); d++) {
        sys
          .node(ip)
          .deviceSizesKb.set(
            `/dev/sd${String.fromCharCode(98 + d)}`,
            (o.deviceGb ?? 100) * KB_PER_GB,
          );
      }
    }
  }
  const mgrIps = Array.from({ length: managers }, (_, i) => nthIp(first, i));
  for (let i = 0; i < (o.sdcCount ?? 0); i++) {
    sys.installPackage(nthIp(first, i), "sdc", undefined, "rpm", { MDM_IP: mgrIps.join(",") });
  }
  sys.createCluster(first, first, "mdm1");
  const admin = sys.users[0]!;
  sys.setPassword(admin, "admin", o.password ?? "Scaleio123");
  const slaves: string[] = [];
  const tbs: string[] = [];
  for (let i = 1; i < members; i++) {
    const isManager = i < managers;
    const name = isManager ? `mdm${i + 1}` : members === 3 ? "tb" : `tb${i - managers + 1}`;
    sys.cluster.addStandby(
      nthIp(first, i),
      isManager ? nthIp(first, i) : undefined,
      name,
      isManager,
    );
    (isManager ? slaves : tbs).push(name);
  }
  if (mode !== "1_node") {
    sys.cluster.switchMode(mode, {
      addSlaves: slaves,
      addTbs: tbs,
      removeSlaves: [],
      removeTbs: [],
    });
  }
  sys.rename(o.systemName ?? "scaleio");
  sys.syncSdcs();
  const pd = sys.addProtectionDomain(o.protectionDomain ?? "default");
  const sp = sys.addStoragePool(pd.id, o.storagePool ?? "default");
  for (let i = 0; i < sdsCount; i++) {
    const ip = nthIp(first, i);
    const devices = Array.from({ length: o.devicesPerSds ?? 1 }, (_, d) => ({
      path: `/dev/sd${String.fromCharCode(98 + d)}`,
      storagePoolId: sp.id,
    }));
    sys.addSds({
      name: `sds${i + 1}`,
      protectionDomainId: pd.id,
      ips: [{ ip, role: "all" }],
      devices,
    });
  }
}
