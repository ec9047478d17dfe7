// Checks of the rendered pods for validate.mjs: the exporter container
// (sidecar or native sidecar) with the shared log volume mounted read-only,
// probes, the hardened security context, the flags of the chosen source, and
// the Postfix side of a sidecar pod. Each check throws (node:assert) naming
// `where`.
import assert from "node:assert/strict";
import path from "node:path";

export const EXPORTER = "postfix-sasl-exporter";

export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function podSpecOf(obj) {
  return obj.spec?.template?.spec;
}

export function findExporter(podSpec) {
  const inMain = (podSpec.containers ?? []).filter((c) => c.name === EXPORTER);
  const inInit = (podSpec.initContainers ?? []).filter((c) => c.name === EXPORTER);
  assert.equal(inMain.length + inInit.length, 1, "exactly one exporter container per pod");
  return inMain.length ? { c: inMain[0], native: false } : { c: inInit[0], native: true };
}

export function labelsMatch(selector, labels) {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

export function argValue(args, flag) {
  const found = args.filter((a) => a.startsWith(`${flag}=`)).map((a) => a.slice(flag.length + 1));
  return found;
}

// ---------------------------------------------------------------------------
// Checks of one exporter container and its pod.

export function checkExporter(podSpec, v, where) {
  const { c, native } = findExporter(podSpec);
  const cfg = v.config ?? {};
  assert.equal(native, v.sidecar.native === true && v.mode !== "journal", `${where}: native sidecar placement`);
  if (native) {
    assert.equal(c.restartPolicy, "Always", `${where}: native sidecar needs restartPolicy: Always`);
    assert.ok(!(podSpec.containers ?? []).some((x) => x.name === EXPORTER), `${where}: exporter also in containers`);
  } else {
    assert.equal(c.restartPolicy, undefined, `${where}: restartPolicy only on a native sidecar`);
  }

  // Port and flags of the HTTP side.
  const metricsPort = (c.ports ?? []).find((p) => p.name === "metrics");
  assert.ok(metricsPort, `${where}: container port named metrics`);
  assert.equal(metricsPort.containerPort, v.containerPort, `${where}: metrics port`);
  const args = c.args ?? [];
  assert.ok(args.every((a) => typeof a === "string"), `${where}: args are strings`);
  if (!("web.listen-address" in cfg)) {
    assert.deepEqual(argValue(args, "--web.listen-address"), [`:${v.containerPort}`], `${where}: listen address`);
  }
  assert.deepEqual(argValue(args, "--web.telemetry-path"), [v.telemetryPath], `${where}: telemetry path`);
  for (const a of v.extraArgs ?? []) assert.ok(args.includes(a), `${where}: extraArgs ${a} passed`);

  // Probes.
  const basicAuth = Boolean(v.webConfig?.basic_auth_users);
  const tls = Boolean(v.webConfig?.tls_server_config);
  for (const [probeName, probePath] of [["livenessProbe", "/-/healthy"], ["readinessProbe", "/-/ready"]]) {
    const p = c[probeName];
    assert.ok(p, `${where}: ${probeName}`);
    if (basicAuth) {
      assert.deepEqual(p.tcpSocket, { port: "metrics" }, `${where}: ${probeName} is a TCP check under basic auth`);
      assert.equal(p.httpGet, undefined);
    } else {
      assert.deepEqual(p.httpGet, { path: probePath, port: "metrics", scheme: tls ? "HTTPS" : "HTTP" },
        `${where}: ${probeName} on ${probePath}`);
    }
  }

  // Hardening: the exporter's own security context, merged over the pod's.
  const sc = { ...(podSpec.securityContext ?? {}), ...(c.securityContext ?? {}) };
  assert.equal(sc.runAsNonRoot, true, `${where}: runAsNonRoot`);
  assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
  assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation false`);
  assert.ok(c.securityContext?.capabilities?.drop?.includes("ALL"), `${where}: capabilities drop ALL`);
  assert.equal(c.securityContext?.capabilities?.add, undefined, `${where}: no capability added`);
  assert.equal(sc.seccompProfile?.type, "RuntimeDefault", `${where}: seccomp RuntimeDefault`);
  assert.notEqual(c.securityContext?.privileged, true, `${where}: not privileged`);

  // Every mount names a volume of the pod; nothing but the state dir is
  // writable (plus whatever the user adds through extraVolumeMounts).
  const volumes = new Map((podSpec.volumes ?? []).map((x) => [x.name, x]));
  const mounts = c.volumeMounts ?? [];
  const extraMounts = new Set((v.extraVolumeMounts ?? []).map((m) => m.mountPath));
  // Socket input: the exporter creates its socket in the shared directory.
  const socketInput = v.mode !== "journal" && v.sidecar.input === "socket";
  if (socketInput) extraMounts.add(v.sidecar.socket.dir);
  for (const m of mounts) {
    assert.ok(volumes.has(m.name), `${where}: mount ${m.name} has a volume`);
    if (m.mountPath !== "/var/lib/postfix-sasl-exporter" && !extraMounts.has(m.mountPath)) {
      assert.equal(m.readOnly, true, `${where}: ${m.mountPath} mounted read-only`);
    }
  }
  const mountAt = (dir) => mounts.find((m) => m.mountPath === dir);

  if (v.mode === "journal") {
    assert.ok(args.includes("--systemd.enable"), `${where}: --systemd.enable`);
    const jp = "systemd.journal_path" in cfg ? cfg["systemd.journal_path"] : argValue(args, "--systemd.journal_path")[0];
    assert.equal(jp, v.journal.path, `${where}: --systemd.journal_path`);
    assert.deepEqual(argValue(args, "--systemd.unit"), v.journal.units, `${where}: --systemd.unit per unit`);
    assert.deepEqual(argValue(args, "--systemd.slice"), v.journal.slice ? [v.journal.slice] : [], `${where}: slice`);
    const m = mountAt(v.journal.path);
    assert.ok(m, `${where}: ${v.journal.path} mounted`);
    assert.equal(m.readOnly, true, `${where}: journal mounted read-only`);
    assert.deepEqual(volumes.get(m.name).hostPath, { path: v.journal.path, type: "Directory" },
      `${where}: the node's own journal directory, never created by the pod`);
    assert.equal(argValue(args, "--postfix.logfile_path").length, 0, `${where}: no log file in journal mode`);
    if (v.journal.cursorFile) {
      assert.deepEqual(argValue(args, "--state.file"), ["/var/lib/postfix-sasl-exporter/state"]);
    }
  } else if (socketInput) {
    const sock = `${v.sidecar.socket.dir}/${v.sidecar.socket.name}`;
    assert.ok(native, `${where}: socket input runs as a native sidecar (socket before Postfix)`);
    const listen = "syslog.listen-address" in cfg ? [cfg["syslog.listen-address"]].flat()
      : argValue(args, "--syslog.listen-address");
    assert.deepEqual(listen, [`unixgram://${sock}`], `${where}: --syslog.listen-address`);
    assert.deepEqual(argValue(args, "--syslog.socket-mode"), [v.sidecar.socket.mode], `${where}: socket mode`);
    assert.equal(args.includes("--syslog.echo"), v.sidecar.socket.echo === true, `${where}: --syslog.echo`);
    assert.equal(argValue(args, "--postfix.logfile_path").length, 0, `${where}: no log file in socket input`);
    assert.equal(argValue(args, "--state.file").length, 0, `${where}: no state file`);
    assert.ok(!args.includes("--systemd.enable"), `${where}: no journal in socket input`);
    const m = mountAt(v.sidecar.socket.dir);
    assert.ok(m, `${where}: socket directory mounted in the exporter`);
    assert.notEqual(m.readOnly, true, `${where}: the exporter creates the socket`);
    assert.equal(m.name, v.sidecar.socket.volumeName);
    assert.deepEqual(volumes.get(m.name).emptyDir, {}, `${where}: socket directory is an emptyDir`);
    assert.deepEqual(c.startupProbe?.httpGet?.path ?? (c.startupProbe?.tcpSocket ? "/-/healthy" : undefined),
      "/-/healthy", `${where}: startupProbe holds Postfix back until the socket is bound`);
  } else {
    const logPath = "postfix.logfile_path" in cfg ? cfg["postfix.logfile_path"] : argValue(args, "--postfix.logfile_path")[0];
    assert.equal(logPath, v.sidecar.logPath, `${where}: --postfix.logfile_path`);
    if ("postfix.logfile_path" in cfg) {
      assert.equal(argValue(args, "--postfix.logfile_path").length, 0, `${where}: flag left to the config file`);
    }
    const logDir = path.posix.dirname(v.sidecar.logPath);
    const m = mountAt(logDir);
    assert.ok(m, `${where}: log directory ${logDir} mounted in the exporter`);
    assert.equal(m.readOnly, true, `${where}: shared log volume read-only in the exporter`);
    assert.equal(m.name, v.sidecar.logVolume.name);
    const vol = volumes.get(m.name);
    if (Object.keys(v.sidecar.logVolume.source ?? {}).length) {
      assert.deepEqual({ ...vol, name: undefined }, { name: undefined, ...v.sidecar.logVolume.source });
    } else {
      assert.deepEqual(vol.emptyDir, {}, `${where}: log volume is an emptyDir by default`);
    }
    assert.equal(args.includes("--postfix.logfile_from_beginning"), v.sidecar.fromBeginning === true);
    assert.ok(!args.includes("--systemd.enable"), `${where}: no journal in file mode`);
    if (v.sidecar.positionFile) {
      assert.deepEqual(argValue(args, "--state.file"),
        ["/var/lib/postfix-sasl-exporter/state"], `${where}: state file`);
      assert.deepEqual(volumes.get(mountAt("/var/lib/postfix-sasl-exporter").name).emptyDir, {});
    }
  }

  // The mail queue: the showq socket flag, a read-only mount of Postfix's
  // public/ directory and the postdrop group on the pod.
  if (v.showq?.enabled) {
    const sq = "postfix.showq_path" in cfg ? cfg["postfix.showq_path"] : argValue(args, "--postfix.showq_path")[0];
    assert.equal(sq, `${v.showq.dir}/showq`, `${where}: --postfix.showq_path`);
    const m = mountAt(v.showq.dir);
    assert.ok(m, `${where}: ${v.showq.dir} mounted in the exporter`);
    assert.equal(m.readOnly, true, `${where}: public/ read-only in the exporter`);
    assert.equal(m.name, v.showq.volumeName);
    const vol = volumes.get(m.name);
    if (Object.keys(v.showq.source ?? {}).length) {
      assert.deepEqual({ ...vol, name: undefined }, { name: undefined, ...v.showq.source }, `${where}: showq.source`);
    } else {
      assert.deepEqual(vol.emptyDir, {}, `${where}: public/ is an emptyDir by default`);
    }
    if (v.showq.postdropGid !== null && v.showq.postdropGid !== undefined) {
      const groups = podSpec.securityContext?.supplementalGroups ?? [];
      assert.ok(groups.includes(v.showq.postdropGid), `${where}: postdrop gid in the pod's supplementalGroups`);
      for (const g of v.podSecurityContext?.supplementalGroups ?? []) {
        assert.ok(groups.includes(g), `${where}: podSecurityContext's own supplementalGroups kept`);
      }
    }
  } else {
    assert.equal(argValue(args, "--postfix.showq_path").length, 0, `${where}: no showq without showq.enabled`);
  }

  if (Object.keys(cfg).length) {
    assert.deepEqual(argValue(args, "--config.file"), ["/etc/postfix-sasl-exporter/config/config.yaml"]);
    const m = mountAt("/etc/postfix-sasl-exporter/config");
    assert.ok(m?.readOnly, `${where}: config mounted read-only`);
    assert.ok(volumes.get(m.name).configMap?.name, `${where}: config volume is a ConfigMap`);
  } else {
    assert.equal(argValue(args, "--config.file").length, 0);
  }
  if (Object.keys(v.webConfig ?? {}).length) {
    assert.deepEqual(argValue(args, "--web.config.file"), ["/etc/postfix-sasl-exporter/web/web-config.yml"]);
    assert.ok(volumes.get(mountAt("/etc/postfix-sasl-exporter/web").name).secret?.secretName);
  }
  if (v.tlsSecretName) {
    assert.equal(volumes.get(mountAt("/etc/postfix-sasl-exporter/tls").name).secret?.secretName, v.tlsSecretName);
  }
  return { c, volumes };
}

// The Postfix side of a sidecar pod: writes the shared log directory.
export function checkPostfixWriter(podSpec, v, where) {
  if (v.sidecar.input === "socket") {
    const dir = v.sidecar.socket.dir;
    const writers = (podSpec.containers ?? []).filter((c) => c.name !== EXPORTER &&
      (c.volumeMounts ?? []).some((m) => m.name === v.sidecar.socket.volumeName && m.mountPath === dir && !m.readOnly));
    assert.equal(writers.length, 1, `${where}: one container (Postfix) mounts the socket directory ${dir}`);
    if (v.postfix.linkDevLog !== false) {
      const c = writers[0];
      assert.deepEqual(c.command?.slice(0, 2), ["/bin/sh", "-c"], `${where}: Postfix started through sh`);
      assert.ok(c.command[2].startsWith(`ln -sf ${dir}/${v.sidecar.socket.name} /dev/log && exec "$@"`),
        `${where}: /dev/log points at the exporter's socket`);
      assert.deepEqual(c.args, [...v.postfix.command, ...(v.postfix.args ?? [])], `${where}: then Postfix's own command`);
    }
    return writers[0];
  }
  const logDir = path.posix.dirname(v.sidecar.logPath);
  const writers = (podSpec.containers ?? []).filter((c) => c.name !== EXPORTER &&
    (c.volumeMounts ?? []).some((m) => m.name === v.sidecar.logVolume.name && m.mountPath === logDir && !m.readOnly));
  assert.equal(writers.length, 1, `${where}: one container (Postfix) mounts ${logDir} read-write`);
  return writers[0];
}

