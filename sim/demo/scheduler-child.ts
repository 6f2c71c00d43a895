// The scheduler command (src/cli/main.ts, the same arguments) in a process that ends with the
// demo: when the demo's process is gone, even killed outright, its IPC channel closes and the
// scheduler is stopped as by SIGTERM (a standby leaves the election, a leader stops), instead
// of running on against a development cluster that no longer exists.
process.once("disconnect", () => process.kill(process.pid, "SIGTERM"));
await import("../../src/cli/main.js");
