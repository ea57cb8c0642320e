"""Reads the example Kubernetes manifests of deploy/kubernetes/ and checks them.

    manifests.py check DIR TQS1     the safety settings, and the real binary
                                    on their command lines and config
    manifests.py args DIR WORKLOAD  the container's args, one a line
    manifests.py env DIR WORKLOAD   its environment, NAME=VALUE a line, with
                                    the values of secret.example.yaml
    manifests.py config DIR         the ConfigMap's tqs1.yaml
    manifests.py user DIR           "UID GID FSGROUP" of every pod

WORKLOAD is "apply" (the CronJob) or "serve" (the Deployment).
tools/container_test.sh runs the image with what these print;
//deploy:manifests_test runs `check`. Debian's python3-yaml only.
"""

import os
import re
import subprocess
import sys
import tempfile

import yaml

FILES = {
    "configmap.yaml": ["ConfigMap"],
    "secret.example.yaml": ["Secret"],
    "pvc.yaml": ["PersistentVolumeClaim"],
    "apply-cronjob.yaml": ["CronJob"],
    "serve-deployment.yaml": ["Deployment", "Service", "NetworkPolicy"],
}
WORKLOADS = {"apply": "CronJob", "serve": "Deployment"}


class Manifests:
    """Every object of the files of FILES in `folder`, by kind."""

    def __init__(self, folder):
        self.by_kind = {}
        for name, kinds in FILES.items():
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                docs = [d for d in yaml.safe_load_all(f) if d is not None]
            found = [d.get("kind") for d in docs]
            if found != kinds:
                raise ValueError(f"{name} holds {found}, expected {kinds}")
            for doc in docs:
                for key in ("apiVersion", "kind", "metadata"):
                    if key not in doc:
                        raise ValueError(f"{name}: a {doc.get('kind')} without {key}")
                self.by_kind[doc["kind"]] = doc

    def pod_spec(self, workload):
        obj = self.by_kind[WORKLOADS[workload]]
        if workload == "apply":
            return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        return obj["spec"]["template"]["spec"]

    def container(self, workload):
        return self.pod_spec(workload)["containers"][0]

    def secret_values(self):
        return self.by_kind["Secret"]["stringData"]

    def env(self, workload):
        """The container's environment, secret references resolved."""
        values = {}
        for var in self.container(workload).get("env", []):
            ref = var.get("valueFrom", {}).get("secretKeyRef")
            if ref is None:
                values[var["name"]] = var["value"]
            else:
                if ref["name"] != self.by_kind["Secret"]["metadata"]["name"]:
                    raise ValueError(f"{var['name']} comes from Secret {ref['name']}")
                if ref["key"] not in self.secret_values():
                    raise ValueError(f"{var['name']} comes from key {ref['key']}, "
                                     "which the Secret does not have")
                values[var["name"]] = self.secret_values()[ref["key"]]
        return values

    def config_text(self):
        return self.by_kind["ConfigMap"]["data"]["tqs1.yaml"]

    def user(self):
        ids = {(s["runAsUser"], s["runAsGroup"], s["fsGroup"])
               for s in (self.pod_spec(w)["securityContext"] for w in WORKLOADS)}
        if len(ids) != 1:
            raise ValueError(f"the pods run as different users: {sorted(ids)}")
        return ids.pop()


def option(args, name):
    """The value after `name` in args, or None."""
    for i, arg in enumerate(args[:-1]):
        if arg == name:
            return args[i + 1]
    return None


def mount_of(pod, container, path):
    """(volumeMount, volume) of the mount at `path`, or (None, None)."""
    for mount in container.get("volumeMounts", []):
        if mount["mountPath"] == path:
            volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
            return mount, volume
    return None, None


def container_port(container, name):
    return next((p["containerPort"] for p in container.get("ports", [])
                 if p["name"] == name), None)


class Checker:
    def __init__(self):
        self.failures = []
        self.passed = 0

    def expect(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failures.append(what)


def check_security(c, m, workload):
    pod = m.pod_spec(workload)
    container = m.container(workload)
    pod_sc = pod.get("securityContext", {})
    sc = container.get("securityContext", {})
    w = f"{workload}: "
    c.expect(pod_sc.get("runAsNonRoot") is True, w + "pod runAsNonRoot: true")
    c.expect(isinstance(pod_sc.get("runAsUser"), int) and pod_sc["runAsUser"] > 0,
             w + "pod runAsUser is a user other than root")
    c.expect(pod_sc.get("fsGroupChangePolicy") == "OnRootMismatch",
             w + "fsGroupChangePolicy: OnRootMismatch (keeps the plan key 0600)")
    seccomp = sc.get("seccompProfile", pod_sc.get("seccompProfile", {}))
    c.expect(seccomp.get("type") == "RuntimeDefault", w + "seccompProfile RuntimeDefault")
    c.expect(sc.get("readOnlyRootFilesystem") is True, w + "readOnlyRootFilesystem: true")
    c.expect(sc.get("allowPrivilegeEscalation") is False,
             w + "allowPrivilegeEscalation: false")
    caps = sc.get("capabilities", {})
    c.expect(caps.get("drop") == ["ALL"] and not caps.get("add"),
             w + "capabilities: drop [ALL], add none")
    c.expect(pod.get("automountServiceAccountToken") is False,
             w + "automountServiceAccountToken: false")


def check_volumes_and_secrets(c, m, workload):
    pod = m.pod_spec(workload)
    container = m.container(workload)
    args = container["args"]
    w = f"{workload}: "
    state_dir = option(args, "--state-dir")
    mount, volume = mount_of(pod, container, state_dir)
    claim = m.by_kind["PersistentVolumeClaim"]["metadata"]["name"]
    c.expect(volume is not None and
             volume.get("persistentVolumeClaim", {}).get("claimName") == claim,
             w + f"--state-dir {state_dir} is the mount of PVC {claim}")
    c.expect(mount is not None and not mount.get("readOnly", False),
             w + "the state folder is writable")
    config_dir = option(args, "-c")
    mount, volume = mount_of(pod, container, config_dir)
    config_map = m.by_kind["ConfigMap"]["metadata"]["name"]
    c.expect(volume is not None and
             volume.get("configMap", {}).get("name") == config_map and
             mount.get("readOnly") is True,
             w + f"-c {config_dir} is the read-only mount of ConfigMap {config_map}")
    for flag in ("--tls-cert", "--tls-key"):
        path = option(args, flag)
        if path is not None:
            mount, volume = mount_of(pod, container, os.path.dirname(path))
            c.expect(volume is not None and "secret" in volume,
                     w + f"{flag} {path} is in a mounted Secret")
    config = yaml.safe_load(m.config_text())
    wanted = [config["threatq"]["password_env"], config["sentinelone"]["api_token_env"]]
    if option(args, "--token-env") is not None:
        wanted.append(option(args, "--token-env"))
    env = m.env(workload)
    for name in wanted:
        c.expect(name in env, w + f"{name} is set from the Secret")


def check_apply(c, m):
    cron = m.by_kind["CronJob"]["spec"]
    job = cron["jobTemplate"]["spec"]
    c.expect(cron.get("concurrencyPolicy") == "Forbid", "apply: concurrencyPolicy: Forbid")
    c.expect(isinstance(cron.get("startingDeadlineSeconds"), int),
             "apply: startingDeadlineSeconds is set")
    c.expect(isinstance(job.get("backoffLimit"), int) and job["backoffLimit"] <= 1,
             "apply: backoffLimit is 0 or 1")
    c.expect(isinstance(job.get("activeDeadlineSeconds"), int) and
             job["activeDeadlineSeconds"] < 3600,
             "apply: activeDeadlineSeconds ends a run before the next hour's")
    c.expect(m.pod_spec("apply").get("restartPolicy") == "Never",
             "apply: restartPolicy: Never")
    c.expect(m.container("apply")["args"][:2] == ["apply", "--auto-approve"],
             "apply: runs `tqs1 apply --auto-approve`")


def check_serve(c, m):
    deployment = m.by_kind["Deployment"]["spec"]
    container = m.container("serve")
    args = container["args"]
    c.expect(deployment.get("replicas") == 1, "serve: replicas: 1")
    c.expect(deployment.get("strategy", {}).get("type") == "Recreate",
             "serve: strategy Recreate")
    c.expect(args[0] == "serve" and "--apply" not in args, "serve: observe-only serve")
    metrics = option(args, "--metrics-listen") or ""
    c.expect(metrics.startswith("0.0.0.0:"), "serve: --metrics-listen on 0.0.0.0")
    metrics_port = container_port(container, "metrics")
    c.expect(metrics_port == int(metrics.rpartition(":")[2] or 0),
             "serve: port \"metrics\" is the --metrics-listen port")
    listen = option(args, "--listen") or ""
    c.expect(container_port(container, "grpc") == int(listen.rpartition(":")[2] or 0),
             "serve: port \"grpc\" is the --listen port")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = container.get(probe, {}).get("httpGet", {})
        port = get.get("port")
        port = container_port(container, port) if isinstance(port, str) else port
        c.expect(get.get("path") == path and port == metrics_port,
                 f"serve: {probe} is GET {path} on the metrics port")
    service = m.by_kind["Service"]["spec"]
    labels = m.by_kind["Deployment"]["spec"]["template"]["metadata"]["labels"]
    c.expect(service["selector"].items() <= labels.items(),
             "serve: the Service selects the Deployment's pod")
    c.expect({p["targetPort"] for p in service["ports"]} == {"grpc", "metrics"},
             "serve: the Service's ports are the pod's")
    policy = m.by_kind["NetworkPolicy"]["spec"]
    c.expect(policy["podSelector"]["matchLabels"].items() <= labels.items(),
             "serve: the NetworkPolicy covers the pod")


def check_binary(c, m, tqs1):
    """The real binary: the parser takes every command line, each option is
    one of its command's, and the ConfigMap's config loads."""
    for workload in WORKLOADS:
        args = m.container(workload)["args"]
        parsed = subprocess.run([tqs1, *args, "--help"], capture_output=True, text=True)
        c.expect(parsed.returncode == 0,
                 f"{workload}: tqs1 parses {' '.join(args)}: {parsed.stderr.strip()}")
        help_text = subprocess.run([tqs1, "help", args[0]], capture_output=True,
                                   text=True).stdout
        for arg in args:
            if arg.startswith("-"):
                c.expect(re.search(rf"(^|[\s,]){re.escape(arg)}([\s,=]|$)", help_text,
                                   re.M) is not None,
                         f"{workload}: `tqs1 help {args[0]}` documents {arg}")
    with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as tmp:
        os.mkdir(os.path.join(tmp, "config"))
        os.mkdir(os.path.join(tmp, "state"))
        with open(os.path.join(tmp, "config", "tqs1.yaml"), "w", encoding="utf-8") as f:
            f.write(m.config_text())
        for workload in WORKLOADS:
            env = {"PATH": "/usr/bin:/bin", **m.env(workload)}
            loaded = subprocess.run(
                [tqs1, "check", "--config-only", "-c", os.path.join(tmp, "config"),
                 "--state-dir", os.path.join(tmp, "state")],
                env=env, capture_output=True, text=True)
            c.expect(loaded.returncode == 0,
                     f"{workload}: the ConfigMap's config loads with the pod's "
                     f"environment: {loaded.stdout.strip()} {loaded.stderr.strip()}")


def check(folder, tqs1):
    c = Checker()
    try:
        m = Manifests(folder)
        m.user()  # the same user everywhere
        check_apply(c, m)
        check_serve(c, m)
        for workload in WORKLOADS:
            check_security(c, m, workload)
            check_volumes_and_secrets(c, m, workload)
        check_binary(c, m, tqs1)
    except (KeyError, ValueError, TypeError, yaml.YAMLError) as e:
        c.expect(False, f"the manifests cannot be read as expected: {e!r}")
    for failure in c.failures:
        print(f"manifests: FAIL: {failure}")
    print(f"manifests: {c.passed} checks passed, {len(c.failures)} failed")
    return 1 if c.failures else 0


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    command, folder = argv[1], argv[2]
    if command == "check" and len(argv) == 4:
        return check(folder, argv[3])
    m = Manifests(folder)
    if command == "args" and len(argv) == 4:
        print("\n".join(m.container(argv[3])["args"]))
    elif command == "env" and len(argv) == 4:
        for name, value in m.env(argv[3]).items():
            print(f"{name}={value}")
    elif command == "config":
        sys.stdout.write(m.config_text())
    elif command == "user":
        print(*m.user())
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
