// A scheduler whose state is in ZooKeeper joins the leader election before it does anything
// else: while it stands by it neither subscribes to Mesos nor runs plans, and its API says
// who leads and answers reads from the leader's views in the store (changes get a 503
// naming the leader). Elected, it hands over its listening socket (never closed in between:
// no refused connection at a failover) and its store (fenced by its election znode) to the
// full scheduler.
import type { Logger } from "pino";
import type { LoadedConfig } from "./config/load.js";
import { LeaderElector, type CandidateInfo } from "../ha/elector.js";
import { buildStandbyServer } from "../ha/standby-server.js";
import { HandoverListener } from "../ha/handover-listener.js";
import { StoredViews } from "../ha/view-reader.js";
import { describeLocation, openStateStore, type StateLocation } from "../store/open-store.js";
import { ZkStateStore } from "../store/zk-store.js";
import { listenFailure, StartupError } from "./startup.js";

/** Exit code of a leader that lost its leadership (its supervisor restarts it as a standby). */
export const EXIT_DEPOSED = 6;

export interface Elected {
  store: ZkStateStore;
  elector: LeaderElector;
  /** The port the standby API listens on: the full API takes it over. */
  port: number;
  apiUrl: string;
  /** The one listening socket, handed to the full API (never closed in between). */
  listener: HandoverListener;
  /** Retires the standby's API once the full one answers on the listener. */
  closeStandby(): Promise<void>;
}

/** Stands by until elected; SIGTERM/SIGINT meanwhile leave the election and end the process. */
export async function standByUntilElected(
  loaded: LoadedConfig,
  loc: Extract<StateLocation, { kind: "zk" }>,
  opts: {
    version: string;
    log: Logger;
    apiHost: string;
    tls: { cert: string; key: string } | undefined;
  },
): Promise<Elected> {
  const { config, secrets } = loaded;
  const { log } = opts;
  const opened = await openStateStore(loc, {
    zkAuth: secrets.zkAuth,
    zkSessionTimeoutMs: config.state.zkSessionTimeoutMs,
    onWarning: (m) => log.warn({}, m),
  }).catch((err: unknown) => {
    throw new StartupError(
      `cannot use the state store ${describeLocation(loc)} (--state): ${(err as Error).message}`,
    );
  });
  if (!(opened instanceof ZkStateStore)) throw new Error("a zk:// state opened as another store");
  const store = opened;
  // The candidate needs the API's URL, known once listening: the API asks it through this.
  const election: { elector?: LeaderElector } = {};
  const listener = new HandoverListener({
    limits: config.api.limits,
    ...(opts.tls ? { tls: opts.tls } : {}),
  });
  const turn = listener.adopt();
  const app = buildStandbyServer({
    version: opts.version,
    election: { view: () => election.elector?.view() ?? { leader: false, current: undefined } },
    // Reads are answered from the copy of the leader's views in the store.
    views: new StoredViews(store, {
      onReadError: (err) =>
        log.warn({ err: err.message }, "the leader's views not read from the store"),
    }),
    onFault: (err, url) => log.error({ err: err.message, url }, "API fault"),
    apiToken: secrets.apiToken,
    protectReads: config.api.protectReads,
    serverFactory: turn.serverFactory,
  });
  await app.ready();
  turn.activate();
  const port = await listener.listen(config.api.address, config.api.port).catch(async (err) => {
    await store.close();
    throw listenFailure(err, config.api.address, config.api.port);
  });
  const apiUrl = `${opts.tls ? "https" : "http"}://${opts.apiHost}:${port}`;
  console.log(`api: ${apiUrl}`);
  const candidate = new LeaderElector(store, { api: apiUrl });
  election.elector = candidate;
  candidate.on("warning", (m) => log.warn({}, m));
  candidate.on("leader", (info: CandidateInfo | undefined) => {
    if (!candidate.isLeader)
      log.info({ leader: info?.api ?? null, leaderId: info?.id ?? null }, "standing by");
  });
  const elected = new Promise<void>((resolve) => candidate.once("elected", () => resolve()));
  const leave = () => {
    log.info({}, "stopping (standby)");
    void (async () => {
      try {
        await candidate.stop();
        await app.close();
        await listener.close();
        await store.close();
      } catch (err) {
        log.warn({ err: (err as Error).message }, "standby not stopped cleanly");
      } finally {
        process.exit(0);
      }
    })();
  };
  process.once("SIGTERM", leave);
  process.once("SIGINT", leave);
  log.info({ candidate: candidate.info.id, api: apiUrl }, "joined the leader election");
  candidate.start();
  await elected;
  process.off("SIGTERM", leave);
  process.off("SIGINT", leave);
  log.info({ candidate: candidate.info.id }, "elected leader: subscribing to Mesos");
  return { store, elector: candidate, port, apiUrl, listener, closeStandby: () => app.close() };
}
