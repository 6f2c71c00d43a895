// Emulated operating systems for development agents (`dev mesos --os`, `demo --os`): each
// writes, inside the agent's sandbox root only, what a host of that family shows: its
// /etc/os-release (and release files), the running kernel (/proc/sys/kernel/osrelease), its
// mounts (/proc/mounts: CoreOS and Flatcar mount /usr read-only), its init system's marks
// (/run/systemd/system, or upstart's /sbin/initctl and /etc/init), and which package and
// service tools exist (/usr/bin/rpm, /usr/bin/dpkg, ...). The ScaleIO emulator's tools answer
// "command not found" for a tool the node's OS lacks; the executor's host layer detects the
// OS from these files and refuses writes under read-only mounts. Nothing here touches the
// real machine.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export const EMULATED_OS_NAMES = [
  "ubuntu-14.04",
  "ubuntu-16.04",
  "ubuntu-18.04",
  "debian-9",
  "rhel-6",
  "rhel-7",
  "centos-7",
  "coreos",
  "flatcar",
] as const;
export type EmulatedOsName = (typeof EMULATED_OS_NAMES)[number];

/** `--os mixed`: one agent of each of these, round robin. */
export const MIXED_OS: EmulatedOsName[] = [
  "ubuntu-16.04",
  "ubuntu-18.04",
  "rhel-7",
  "coreos",
  "flatcar",
];

interface EmulatedOs {
  files: Record<string, string>;
  kernel: string;
  init: "systemd" | "upstart" | "sysv";
  /** Host paths of the tools this OS has. */
  tools: string[];
  readOnly: string[];
}

const DEB_TOOLS = [
  "/usr/bin/dpkg",
  "/usr/bin/dpkg-query",
  "/usr/bin/apt-get",
  "/usr/sbin/service",
  "/usr/sbin/update-rc.d",
];
const RPM_TOOLS = ["/bin/rpm", "/usr/bin/yum", "/sbin/service", "/sbin/chkconfig"];
const SYSTEMCTL = "/bin/systemctl";

const osRelease = (fields: Record<string, string>) =>
  Object.entries(fields)
    .map(([k, v]) => `${k}="${v}"`)
    .join("\n") + "\n";

const OSES: Record<EmulatedOsName, EmulatedOs> = {
  "ubuntu-14.04": {
    files: {
      "/etc/os-release": osRelease({
        NAME: "Ubuntu",
        VERSION: "14.04.6 LTS, Trusty Tahr",
        ID: "ubuntu",
        ID_LIKE: "debian",
        PRETTY_NAME: "Ubuntu 14.04.6 LTS",
        VERSION_ID: "14.04",
      }),
      "/etc/debian_version": "jessie/sid\n",
    },
    kernel: "4.4.0-38-generic",
    init: "upstart",
    tools: [...DEB_TOOLS, "/sbin/initctl"],
    readOnly: [],
  },
  "ubuntu-16.04": {
    files: {
      "/etc/os-release": osRelease({
        NAME: "Ubuntu",
        VERSION: "16.04.7 LTS (Xenial Xerus)",
        ID: "ubuntu",
        ID_LIKE: "debian",
        PRETTY_NAME: "Ubuntu 16.04.7 LTS",
        VERSION_ID: "16.04",
      }),
      "/etc/debian_version": "stretch/sid\n",
    },
    kernel: "4.4.0-186-generic",
    init: "systemd",
    tools: [...DEB_TOOLS, SYSTEMCTL],
    readOnly: [],
  },
  "ubuntu-18.04": {
    files: {
      "/etc/os-release": osRelease({
        NAME: "Ubuntu",
        VERSION: "18.04.5 LTS (Bionic Beaver)",
        ID: "ubuntu",
        ID_LIKE: "debian",
        PRETTY_NAME: "Ubuntu 18.04.5 LTS",
        VERSION_ID: "18.04",
      }),
      "/etc/debian_version": "buster/sid\n",
    },
    kernel: "4.15.0-20-generic",
    init: "systemd",
    tools: [...DEB_TOOLS, SYSTEMCTL],
    readOnly: [],
  },
  "debian-9": {
    files: {
      "/etc/os-release": osRelease({
        PRETTY_NAME: "Debian GNU/Linux 9 (stretch)",
        NAME: "Debian GNU/Linux",
        VERSION_ID: "9",
        ID: "debian",
      }),
      "/etc/debian_version": "9.13\n",
    },
    kernel: "4.9.0-13-amd64",
    init: "systemd",
    tools: [...DEB_TOOLS, SYSTEMCTL],
    readOnly: [],
  },
  "rhel-6": {
    // RHEL 6 has no os-release: its release file says which.
    files: { "/etc/redhat-release": "Red Hat Enterprise Linux Server release 6.10 (Santiago)\n" },
    kernel: "2.6.32-754.el6.x86_64",
    init: "sysv",
    tools: RPM_TOOLS,
    readOnly: [],
  },
  "rhel-7": {
    files: {
      "/etc/os-release": osRelease({
        NAME: "Red Hat Enterprise Linux Server",
        VERSION: "7.9 (Maipo)",
        ID: "rhel",
        ID_LIKE: "fedora",
        VERSION_ID: "7.9",
        PRETTY_NAME: "Red Hat Enterprise Linux Server 7.9 (Maipo)",
      }),
      "/etc/redhat-release": "Red Hat Enterprise Linux Server release 7.9 (Maipo)\n",
    },
    kernel: "3.10.0-1160.el7.x86_64",
    init: "systemd",
    tools: [...RPM_TOOLS, SYSTEMCTL],
    readOnly: [],
  },
  "centos-7": {
    files: {
      "/etc/os-release": osRelease({
        NAME: "CentOS Linux",
        VERSION: "7 (Core)",
        ID: "centos",
        ID_LIKE: "rhel fedora",
        VERSION_ID: "7",
        PRETTY_NAME: "CentOS Linux 7 (Core)",
      }),
      "/etc/redhat-release": "CentOS Linux release 7.9.2009 (Core)\n",
    },
    kernel: "3.10.0-1160.el7.x86_64",
    init: "systemd",
    tools: [...RPM_TOOLS, SYSTEMCTL],
    readOnly: [],
  },
  coreos: {
    files: {
      "/usr/lib/os-release": osRelease({
        NAME: "Container Linux by CoreOS",
        ID: "coreos",
        VERSION: "2512.3.0",
        VERSION_ID: "2512.3.0",
        PRETTY_NAME: "Container Linux by CoreOS 2512.3.0 (Oklo)",
      }),
    },
    kernel: "4.19.106-coreos",
    init: "systemd",
    tools: [SYSTEMCTL],
    readOnly: ["/usr"],
  },
  flatcar: {
    files: {
      "/usr/lib/os-release": osRelease({
        NAME: "Flatcar Container Linux by Kinvolk",
        ID: "flatcar",
        ID_LIKE: "coreos",
        VERSION: "2905.2.3",
        VERSION_ID: "2905.2.3",
        PRETTY_NAME: "Flatcar Container Linux by Kinvolk 2905.2.3 (Oklo)",
      }),
    },
    kernel: "5.10.43-flatcar",
    init: "systemd",
    tools: [SYSTEMCTL],
    readOnly: ["/usr"],
  },
};

export function isEmulatedOs(name: string): name is EmulatedOsName {
  return (EMULATED_OS_NAMES as readonly string[]).includes(name);
}

/** `ubuntu-16.04`, `rhel-7,flatcar` (one per agent, round robin) or `mixed`. */
export function parseOsList(spec: string): EmulatedOsName[] {
  if (spec === "mixed") return [...MIXED_OS];
  const names = spec.split(",").map((s) => s.trim());
  for (const n of names) {
    if (!isEmulatedOs(n)) {
      throw new Error(`unknown OS '${n}': one of ${EMULATED_OS_NAMES.join(", ")} or mixed`);
    }
  }
  return names as EmulatedOsName[];
}

/** The emulated OS of agent `i` for a list from parseOsList. */
export const osOfAgent = (list: EmulatedOsName[], i: number): EmulatedOsName | undefined =>
  list.length ? list[i % list.length] : undefined;

export function emulatedOsKernel(name: EmulatedOsName): string {
  return OSES[name].kernel;
}

/**
 * Writes the OS's files into an agent's sandbox root (`<nodes>/<agent address>`); `kernel`
 * replaces the profile's own (a kernel no SDC driver was built for).
 */
export function prepareEmulatedOs(
  root: string,
  name: EmulatedOsName,
  opts: { kernel?: string } = {},
): void {
  const os = OSES[name];
  const put = (hostPath: string, content: string, mode = 0o644) => {
    const real = join(root, hostPath);
    mkdirSync(dirname(real), { recursive: true });
    writeFileSync(real, content, { mode });
  };
  for (const [path, content] of Object.entries(os.files)) put(path, content);
  // CoreOS and Flatcar keep os-release under /usr/lib and link it from /etc.
  if (!os.files["/etc/os-release"] && os.files["/usr/lib/os-release"])
    put("/etc/os-release", os.files["/usr/lib/os-release"]);
  const kernel = opts.kernel ?? os.kernel;
  put("/proc/sys/kernel/osrelease", `${kernel}\n`);
  put("/proc/version", `Linux version ${kernel} (emulated ${name})\n`);
  const mounts = [
    "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0",
    "/dev/sda9 / ext4 rw,seclabel,relatime 0 0",
    ...os.readOnly.map((p) => `/dev/mapper/usr ${p} ext4 ro,seclabel,relatime 0 0`),
  ];
  put("/proc/mounts", `${mounts.join("\n")}\n`);
  if (os.init === "systemd") mkdirSync(join(root, "run/systemd/system"), { recursive: true });
  if (os.init === "upstart") mkdirSync(join(root, "etc/init"), { recursive: true });
  for (const tool of os.tools) {
    // A mark that the tool exists on this OS; running it goes to the emulator's own tool.
    put(
      tool,
      `#!/bin/sh\n# ${tool} of the emulated ${name} node: the emulator's tool answers\nexec ${tool.split("/").pop()} "$@"\n`,
      0o755,
    );
  }
}
