// Deterministic kubernetes-event-exporter events, shaped like the exporter's stdout JSON
// (see test/fixtures/event-exporter/*.log): metadata first, involvedObject last, eventTime null.
//
// Each event depends only on (seed, seq), so any slice of the sequence can be generated alone.
// The sequence number is the event name's 16-hex-digit suffix (the form Kubernetes itself uses),
// which lets the Loki sink check that every event arrived exactly once.

/** 2026-11-25T10:00:00Z, the base time of the sample logs in test/fixtures/event-exporter. */
export const BASE_EPOCH_SECONDS = Date.UTC(2026, 10, 25, 10, 0, 0) / 1000;
/** Spacing of event times: 1 ms plus a sub-millisecond part, so the nanoseconds matter. */
const STEP_NS = 1_000_123;

/** The marker the sink looks for: the first `"name":"` in the line is metadata.name. */
export const SEQ_HEX_DIGITS = 16;

const NAMESPACES = ['default', 'kube-system', 'monitoring', 'payments-prod', 'ml-train', 'ingress-nginx', 'cert-manager', 'staging-web'];

const NODES = ['node-e93e', 'node-79ce', 'node-1a2b', 'node-c0de', 'node-5f31', 'node-88aa'];

const APPS = ['web', 'api', 'worker', 'checkout', 'ledger', 'trainer', 'ingress-controller', 'cert-manager', 'prometheus', 'coredns'];

const IMAGES = ['registry.k8s.io/coredns/coredns:v1.11.3', 'ghcr.io/example/web:2.14.1', 'docker.io/library/postgres:16.4', 'quay.io/prometheus/prometheus:v2.54.1', 'registry.example.com/payments/ledger:1.0.77'];

// reason → how the event looks. `msg` builds the message from the generator's helpers.
const REASONS = [
  { reason: 'Scheduled', type: 'Normal', kind: 'Pod', component: 'default-scheduler', msg: (g) => `Successfully assigned ${g.ns}/${g.obj} to ${g.node}` },
  { reason: 'Pulling', type: 'Normal', kind: 'Pod', component: 'kubelet', msg: (g) => `Pulling image "${g.image}"` },
  { reason: 'Pulled', type: 'Normal', kind: 'Pod', component: 'kubelet', msg: (g) => `Successfully pulled image "${g.image}" in ${g.int(200, 40000)}ms (${g.int(200, 40000)}ms including waiting). Image size: ${g.int(5e6, 9e8)} bytes.` },
  { reason: 'Created', type: 'Normal', kind: 'Pod', component: 'kubelet', msg: (g) => `Created container ${g.app}` },
  { reason: 'Started', type: 'Normal', kind: 'Pod', component: 'kubelet', msg: (g) => `Started container ${g.app}` },
  { reason: 'Killing', type: 'Normal', kind: 'Pod', component: 'kubelet', msg: (g) => `Stopping container ${g.app}` },
  { reason: 'ScalingReplicaSet', type: 'Normal', kind: 'Deployment', component: 'deployment-controller', msg: (g) => `Scaled ${g.pick(['up', 'down'])} replica set ${g.obj}-${g.hex(10)} to ${g.int(0, 30)} from ${g.int(0, 30)}` },
  { reason: 'SuccessfulCreate', type: 'Normal', kind: 'ReplicaSet', component: 'replicaset-controller', msg: (g) => `Created pod: ${g.obj}-${g.hex(5)}` },
  { reason: 'SuccessfulDelete', type: 'Normal', kind: 'ReplicaSet', component: 'replicaset-controller', msg: (g) => `Deleted pod: ${g.obj}-${g.hex(5)}` },
  { reason: 'NodeReady', type: 'Normal', kind: 'Node', component: 'kubelet', msg: (g) => `Node ${g.node} status is now: NodeReady` },
  { reason: 'RegisteredNode', type: 'Normal', kind: 'Node', component: 'node-controller', msg: (g) => `Node ${g.node} event: Registered Node ${g.node} in Controller` },
  { reason: 'SuccessfulRescale', type: 'Normal', kind: 'HorizontalPodAutoscaler', component: 'horizontal-pod-autoscaler', msg: (g) => `New size: ${g.int(1, 40)}; reason: cpu resource utilization (percentage of request) above target` },
  { reason: 'Completed', type: 'Normal', kind: 'Job', component: 'job-controller', msg: () => 'Job completed' },
  { reason: 'SawCompletedJob', type: 'Normal', kind: 'CronJob', component: 'cronjob-controller', msg: (g) => `Saw completed job: ${g.obj}-${g.int(28000000, 29999999)}, status: Complete` },
  { reason: 'FailedScheduling', type: 'Warning', kind: 'Pod', component: 'default-scheduler', msg: (g) => `0/${g.int(3, 40)} nodes are available: ${g.int(1, 9)} Insufficient cpu, ${g.int(1, 9)} node(s) had untolerated taint {node.kubernetes.io/unreachable: }. preemption: 0/12 nodes are available: 12 No preemption victims found for incoming pod.` },
  { reason: 'BackOff', type: 'Warning', kind: 'Pod', component: 'kubelet', msg: (g) => `Back-off restarting failed container ${g.app} in pod ${g.obj}_${g.ns}(${g.uuid()})` },
  { reason: 'Unhealthy', type: 'Warning', kind: 'Pod', component: 'kubelet', msg: (g) => `Readiness probe failed: Get "http://10.${g.int(0, 255)}.${g.int(0, 255)}.${g.int(1, 254)}:8080/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` },
  { reason: 'FailedMount', type: 'Warning', kind: 'Pod', component: 'kubelet', msg: (g) => `MountVolume.SetUp failed for volume "config" : configmap "${g.app}-config" not found` },
  { reason: 'FailedCreatePodSandBox', type: 'Warning', kind: 'Pod', component: 'kubelet', msg: (g) => `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "${g.hex(64)}": plugin type="calico" failed (add): error getting ClusterInformation: connection is unauthorized: Unauthorized` },
  { reason: 'Evicted', type: 'Warning', kind: 'Pod', component: 'kubelet', msg: (g) => `The node was low on resource: memory. Threshold quantity: 100Mi, available: ${g.int(10000, 99999)}Ki. Container ${g.app} was using ${g.int(100000, 9999999)}Ki, request is 512Mi, has larger consumption of memory.` },
  { reason: 'NodeNotReady', type: 'Warning', kind: 'Node', component: 'node-controller', msg: (g) => `Node ${g.node} status is now: NodeNotReady` },
  { reason: 'OOMKilling', type: 'Warning', kind: 'Node', component: 'kernel-monitor', msg: (g) => `Memory cgroup out of memory: Killed process ${g.int(1000, 99999)} (${g.app}) total-vm:${g.int(100000, 9999999)}kB, anon-rss:${g.int(100000, 999999)}kB, file-rss:${g.int(1000, 99999)}kB, shmem-rss:0kB, UID:65532 pgtables:${g.int(100, 9999)}kB oom_score_adj:${g.int(-999, 1000)}` },
  { reason: 'FailedGetResourceMetric', type: 'Warning', kind: 'HorizontalPodAutoscaler', component: 'horizontal-pod-autoscaler', msg: () => 'failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API' },
  { reason: 'ProvisioningFailed', type: 'Warning', kind: 'PersistentVolumeClaim', component: 'persistentvolume-controller', msg: (g) => `storageclass.storage.k8s.io "${g.pick(['fast-ssd', 'standard-rwo', 'gp3'])}" not found` },
];

const API_VERSION = { Pod: 'v1', Node: 'v1', PersistentVolumeClaim: 'v1', Deployment: 'apps/v1', ReplicaSet: 'apps/v1', Job: 'batch/v1', CronJob: 'batch/v1', HorizontalPodAutoscaler: 'autoscaling/v2' };

/** mulberry32: small, fast, good enough for test data. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mix(seed, seq) {
  // splitmix-like scramble of (seed, seq) into a 32-bit rng seed.
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(seq, 0xc2b2ae35) ^ Math.floor(seq / 4294967296)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

const HEX = '0123456789abcdef';

class Draw {
  constructor(rand) {
    this.rand = rand;
  }
  int(lo, hi) {
    return lo + Math.floor(this.rand() * (hi - lo + 1));
  }
  pick(list) {
    return list[Math.floor(this.rand() * list.length)];
  }
  hex(n) {
    let s = '';
    for (let i = 0; i < n; i++) s += HEX[Math.floor(this.rand() * 16)];
    return s;
  }
  uuid() {
    return `${this.hex(8)}-${this.hex(4)}-${this.hex(4)}-${this.hex(4)}-${this.hex(12)}`;
  }
}

function rfc3339Seconds(epochSeconds) {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The event time of `seq` as forward EventTime parts. */
export function eventTime(seq) {
  const ns = BigInt(seq) * BigInt(STEP_NS) + 123_456n;
  const sec = BASE_EPOCH_SECONDS + Number(ns / 1_000_000_000n);
  const nsec = Number(ns % 1_000_000_000n);
  return { sec, nsec };
}

/**
 * Event number `seq`: `{ sec, nsec, record }`, with `record` the event map as Fluentd holds it after
 * parsing the exporter's JSON. Shapes: `exporter` (about 1,030 B of msgpack: the involved object's
 * labels, as the exporter's lookup adds them) and `exporter-no-lookup` (about 940 B: the same events
 * without those labels, as the exporter prints them with `omitLookup: true` or for an object it could
 * not look up; W1's "~925 B" records).
 */
export function makeEvent(seq, seed = 1, shape = 'exporter') {
  const g = new Draw(mulberry32(mix(seed, seq)));
  const { sec, nsec } = eventTime(seq);
  const r = REASONS[Math.floor(g.rand() * REASONS.length)];
  const kind = r.kind;
  const clusterScoped = kind === 'Node';
  g.ns = g.pick(NAMESPACES);
  g.app = g.pick(APPS);
  g.node = g.pick(NODES);
  g.image = g.pick(IMAGES);
  g.obj = clusterScoped ? g.node : kind === 'Pod' ? `${g.app}-${g.hex(10)}-${g.hex(5)}` : `${g.app}-${g.hex(6)}`;
  const ts = rfc3339Seconds(sec);
  const first = rfc3339Seconds(sec - g.int(0, 3600));
  const namespace = clusterScoped ? 'default' : g.ns;
  const source = r.component === 'kubelet' || r.component === 'kernel-monitor' ? { component: r.component, host: g.node } : { component: r.component };
  const involvedObject = {
    kind,
    ...(clusterScoped ? {} : { namespace: g.ns }),
    name: g.obj,
    uid: g.uuid(),
    apiVersion: API_VERSION[kind],
    resourceVersion: String(g.int(1000, 99_999_999)),
  };
  if (kind === 'Pod') involvedObject.fieldPath = `spec.containers{${g.app}}`;
  // Drawn for every shape, so that the other fields of event `seq` are the same in each.
  const labels = clusterScoped
    ? { 'kubernetes.io/hostname': g.node, 'node.kubernetes.io/instance-type': g.pick(['m6i.2xlarge', 'n2-standard-8', 'c7g.4xlarge']), 'topology.kubernetes.io/zone': g.pick(['eu-west-1a', 'eu-west-1b', 'eu-west-1c']) }
    : { app: g.app, 'app.kubernetes.io/name': g.app, 'pod-template-hash': g.hex(10) };
  if (shape === 'exporter') involvedObject.labels = labels;
  else if (shape !== 'exporter-no-lookup') throw new Error(`unknown event shape '${shape}' (exporter, exporter-no-lookup)`);
  const record = {
    metadata: {
      name: `${g.obj}.${seq.toString(16).padStart(SEQ_HEX_DIGITS, '0')}`,
      namespace,
      uid: g.uuid(),
      resourceVersion: String(100_000 + seq),
      creationTimestamp: ts,
      managedFields: [
        {
          manager: r.component,
          operation: 'Update',
          apiVersion: 'v1',
          time: ts,
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:count': {},
            'f:firstTimestamp': {},
            'f:involvedObject': {},
            'f:lastTimestamp': {},
            'f:message': {},
            'f:reason': {},
            'f:source': { 'f:component': {}, 'f:host': {} },
            'f:type': {},
          },
        },
      ],
    },
    reason: r.reason,
    message: r.msg(g),
    source,
    firstTimestamp: first,
    lastTimestamp: ts,
    count: g.int(1, 12),
    type: r.type,
    eventTime: null,
    reportingComponent: '',
    reportingInstance: '',
    clusterName: '',
    involvedObject,
  };
  return { sec, nsec, record };
}

/** Reads the sequence number back from an event's JSON line; -1 if it is not one of ours. */
export function seqOfLine(line) {
  const at = line.indexOf('"name":"');
  if (at < 0) return -1;
  const end = line.indexOf('"', at + 8);
  if (end - (at + 8) <= SEQ_HEX_DIGITS) return -1;
  const n = parseInt(line.slice(end - SEQ_HEX_DIGITS, end), 16);
  return Number.isFinite(n) ? n : -1;
}

export { NAMESPACES, REASONS };
