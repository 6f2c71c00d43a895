// One error type for every refusal the MDM or gateway can give. The gateway turns it into
// {"message","httpStatusCode","errorCode"}; scli prints `Error: MDM failed command.  Status: <message>`.
export class SimError extends Error {
  constructor(
    message: string,
    readonly httpStatus = 500,
    readonly errorCode = 0,
  ) {
    super(message);
    this.name = "SimError";
  }
}

// errorCode values as public clients name them (OpenStack Cinder/os-brick constants:
// RESOURCE_NOT_FOUND 3, VOLUME_NOT_FOUND 79 (78 in 1.3x), ALREADY_MAPPED 81, NOT_MAPPED 84,
// VOLUME_ALREADY_EXISTS 99, SDS_REMOVAL_INPROGRESS 103, VOLUME_MAPPED 104,
// VOLUME_CANNOT_EXTEND 133, DEVICE_ALREADY_EXISTS 206); the rest are emulator choices.
export const ErrorCode = {
  ILLEGAL_SYNTAX: 0,
  OBJECT_NOT_FOUND: 3,
  VOLUME_NOT_FOUND: 79,
  VOLUME_NOT_FOUND_13X: 78,
  VOLUME_ALREADY_MAPPED: 81,
  VOLUME_NOT_MAPPED: 84,
  VOLUME_ALREADY_EXISTS: 99,
  SDS_REMOVAL_IN_PROGRESS: 103,
  VOLUME_MAPPED: 104,
  VOLUME_CANNOT_EXTEND: 133,
  DEVICE_ALREADY_EXISTS: 206,
  // MDM refusals of a removal, numbered as in the MDM's return-code table that a public client
  // (dell/goscaleio) ships in order; its order matches every 2.x code above, so these are read
  // off that table. The two marked (*) sit past a stretch with gaps and are unverified.
  DEVICE_BEING_REMOVED: 135,
  PD_HAS_SDSS: 143,
  POOL_HAS_DEVICES: 172,
  PD_HAS_POOLS: 176,
  SDC_HAS_MAPPINGS: 180,
  POOL_HAS_VOLUMES: 196,
  FAULT_SET_HAS_SDSS: 268, // (*)
  PD_HAS_FAULT_SETS: 269, // (*)
  NAME_IN_USE: 6,
  NO_QUORUM: 14,
  INVALID_VALUE: 25,
  NOT_ENOUGH_CAPACITY: 35,
} as const;

export function notFound(what: string): SimError {
  return new SimError(`Could not find the ${what}`, 500, ErrorCode.OBJECT_NOT_FOUND);
}

export function badRequest(message: string, code: number = ErrorCode.INVALID_VALUE): SimError {
  return new SimError(message, 400, code);
}
