#!/usr/bin/env node
// ScaleIO emulator stand-in for `update-rc.d` on an emulated node: forwards to the emulator (see
// _forward.mjs); it links init scripts under that node's root only, never the real host's.
import("./_forward.mjs").then((m) => m.forward("update-rc.d"));
