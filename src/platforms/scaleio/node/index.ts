// The ScaleIO node steps the executor can run, by kind.
import type { NodeStepHandler } from "../../../framework/node-task/handler.js";
import { checkNode } from "./check-node.js";
import { configureSdc } from "./configure-sdc.js";
import { hostFacts } from "./host-facts.js";
import { installPackage, installPackages } from "./install-package.js";
import { installedVersions } from "./installed-versions.js";
import { isolatorConfig } from "./isolator-config.js";
import { mdmCluster } from "./mdm-cluster.js";
import { gatewayMdms, sdcMdms } from "./mdm-addresses.js";
import { mdmReplace } from "./mdm-replace.js";
import { removeConsumerConfig } from "./remove-consumer-config.js";
import { installPrerequisites } from "./prerequisites.js";
import { removePackages } from "./remove-packages.js";
import { rexrayConfig } from "./rexray-config.js";
import { rexrayInstall } from "./rexray-install.js";
import { restartAgent } from "./restart-agent.js";
import { restartService } from "./restart-service.js";
import { upgradeSdc } from "./upgrade-sdc.js";

export const scaleioNodeHandlers: readonly NodeStepHandler[] = [
  hostFacts,
  installPrerequisites,
  installPackage,
  installPackages,
  mdmCluster,
  mdmReplace,
  sdcMdms,
  gatewayMdms,
  configureSdc,
  rexrayConfig,
  rexrayInstall,
  isolatorConfig,
  checkNode,
  restartAgent,
  restartService,
  removePackages,
  installedVersions,
  upgradeSdc,
  removeConsumerConfig,
];
