// Master detection: one interface over ZooKeeper (`zk://...`) and a static master list.
import { MesosConfigError } from "../errors.js";
import type { MasterDetector } from "./base.js";
import { StaticDetector, type StaticDetectorOptions } from "./static.js";
import { ZooKeeperDetector, type ZooKeeperDetectorOptions } from "./zookeeper.js";

export {
  DetectorBase,
  ipFromInt,
  masterUrl,
  type DetectedMaster,
  type MasterDetector,
  type MasterDetectorEvents,
  type MasterUrlOptions,
  type Scheme,
} from "./base.js";
export { StaticDetector, parseMasterList, type StaticDetectorOptions } from "./static.js";
export {
  ZooKeeperDetector,
  lowestMasterChild,
  parseMasterInfo,
  type ZooKeeperDetectorOptions,
} from "./zookeeper.js";
export { ZkUrl, parseZkUrl, type ZkCredentials, type ZkServer } from "./zk-url.js";

/** Options of either detector; each ignores the ones that are not its own. */
export type DetectorOptions = ZooKeeperDetectorOptions & StaticDetectorOptions;

/**
 * A detector for `spec`: `zk://[user:pass@]host:port[,...]/path`, or a comma-separated
 * list of masters (`http://h1:5050,http://h2:5050` or `h1:5050,h2:5050`). Not started.
 */
export function createDetector(spec: string, opts: DetectorOptions = {}): MasterDetector {
  if (typeof spec !== "string" || spec.trim() === "") {
    throw new MesosConfigError(
      "master is not set: give zk://host:port/path or a list of host:port",
    );
  }
  const text = spec.trim();
  if (/^zk:\/\//i.test(text)) return new ZooKeeperDetector(text, opts);
  return new StaticDetector(text, opts);
}
