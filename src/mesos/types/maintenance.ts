// include/mesos/v1/maintenance/maintenance.proto as JSON.
import type { MachineID, Unavailability } from "./common.js";

export interface MaintenanceWindow {
  machine_ids: MachineID[];
  unavailability: Unavailability;
}

export interface MaintenanceSchedule {
  windows?: MaintenanceWindow[];
}

export const MACHINE_MODES = ["UP", "DRAINING", "DOWN"] as const;
export type MachineMode = (typeof MACHINE_MODES)[number];

export interface MachineInfo {
  id: MachineID;
  mode?: MachineMode;
  unavailability?: Unavailability;
}

export const INVERSE_OFFER_STATUSES = ["UNKNOWN", "ACCEPT", "DECLINE"] as const;
export type InverseOfferStatusType = (typeof INVERSE_OFFER_STATUSES)[number];
