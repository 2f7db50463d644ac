/**
 * One kubernetes-event-exporter event exactly as its stdout receiver prints it (Go's json.Encoder, without
 * the trailing newline): corev1.Event's keys in struct order, `clusterName`, then `involvedObject` last,
 * and `<`, `>`, `&` escaped as `\u003c`, `\u003e`, `\u0026`. The default config feeds it through the
 * dummy input so a new user sees what an event looks like on its way to Loki.
 */
export const SAMPLE_EVENT_JSON = String.raw`{"metadata":{"name":"api-7d9f8b6c5-xk2lp.17a9c3e5b2f0d4c1","namespace":"shop","uid":"b1e2c3d4-5f60-4a7b-8c9d-0e1f2a3b4c5d","resourceVersion":"48213377","creationTimestamp":"2026-11-25T09:58:12Z","managedFields":[{"manager":"kubelet","operation":"Update","apiVersion":"v1","time":"2026-11-25T10:00:42Z","fieldsType":"FieldsV1","fieldsV1":{"f:count":{},"f:firstTimestamp":{},"f:involvedObject":{},"f:lastTimestamp":{},"f:message":{},"f:reason":{},"f:source":{"f:component":{},"f:host":{}},"f:type":{}}}]},"reason":"Unhealthy","message":"Liveness probe failed: Get \"http://10.244.1.17:8080/healthz?full=1\u0026timeout=2s\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)","source":{"component":"kubelet","host":"worker-2"},"firstTimestamp":"2026-11-25T09:58:12Z","lastTimestamp":"2026-11-25T10:00:42Z","count":6,"type":"Warning","eventTime":null,"reportingComponent":"","reportingInstance":"","clusterName":"","involvedObject":{"kind":"Pod","namespace":"shop","name":"api-7d9f8b6c5-xk2lp","uid":"3f6c2a1e-8b7d-4c9e-a0f1-2d3e4f5a6b7c","apiVersion":"v1","resourceVersion":"48210954","fieldPath":"spec.containers{api}","labels":{"app.kubernetes.io/name":"api","pod-template-hash":"7d9f8b6c5"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"api-7d9f8b6c5","uid":"9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d","controller":true,"blockOwnerDeletion":true}],"deleted":false}}`;

/**
 * A value for the dummy input's `dummy` option: the record Fluent Bit's tail input makes of that line
 * (`log`), which the event_exporter filter then recognises.
 */
export const SAMPLE_EVENT_DUMMY = JSON.stringify({ log: SAMPLE_EVENT_JSON });
