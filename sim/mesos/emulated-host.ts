// What a development agent's executors get instead of the real machine (the default of every
// development cluster): the dev host profile, an emulated root folder per agent and the
// ScaleIO emulator's node tools first on PATH, as the demo's agents have. Programs that are
// not the emulated node's own (apt-get, systemctl, mkfs...) are refused by the executor's
// host profile. With `hostPassthrough` (an explicit choice) none of this is set: executors get the real machine.
import { join } from "node:path";
import { simBinDir } from "../scaleio/node/packages.js";

export interface EmulatedHostEnv {
  /** Defaults a cluster's own executorEnv may replace (e.g. the demo's emulator and roots). */
  defaults: Record<string, string>;
  /** Set after the framework's CommandInfo environment: no framework can turn them off. */
  enforced: Record<string, string>;
}

/** The executor environment of an emulated agent; `${AGENT_IP}` is expanded by the agent. */
export function emulatedHostEnv(workDir: string): EmulatedHostEnv {
  const tools = simBinDir();
  return {
    defaults: {
      PATH: `${tools}:\${PATH}`,
      SCALEIO_SIM_NODE_IP: "${AGENT_IP}",
      SCALEIO_SIM_ROOT: join(workDir, "nodes", "${AGENT_IP}"),
    },
    enforced: {
      SCALEIO_FRAMEWORK_HOST_PROFILE: "dev",
      SCALEIO_SIM_TOOLS: tools,
    },
  };
}
