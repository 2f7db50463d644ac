/**
 * Computes an event's Loki stream label string from the compiled rules, then (`auto_kubernetes_labels`)
 * every string of the record's `kubernetes.labels` map under its sanitised key, as Fluent Bit adds
 * them (they win over rules of the same name, and stay in the line), then the labels a filter set on
 * the event (`LogEvent.labels`, which win over both).
 *
 * Per event this only reads the accessor values and joins them into a cache key; the sorted, escaped
 * label string is rendered once per distinct key. Empty and missing values leave their label out.
 */
import type { LogEvent } from '../core/event.js';
import type { LabelRule } from './label-rules.js';
import { sanitizeLabelName } from './label-name.js';
import type { RecordAccessor } from './record-accessor.js';
import { labelValue } from './label-value.js';
import { renderLabelString } from './label-string.js';
import { StringCache, stringBytes } from './string-cache.js';
import { isSharedMap } from './shared-map.js';

/** Rendered label sets kept, in bytes (keys and strings); a set with longer values is rendered each time. */
export const LABEL_CACHE_BYTES = 8 * 1024 * 1024;
const LABEL_CACHE_MAX_KEY_CHARS = 64 * 1024;

export interface StreamLabelerOptions {
  /** Used when no label at all has a value: Loki rejects a stream without labels. */
  fallback?: readonly [name: string, value: string];
  /** Bytes of rendered label sets kept; the cache starts over past this. */
  cacheBytes?: number;
  /** Fluent Bit's `auto_kubernetes_labels`: the record's `kubernetes.labels` become labels. */
  autoKubernetesLabels?: boolean;
  /**
   * fluent-plugin-grafana-loki's order: record-accessor labels, then the kubernetes labels, then the
   * fixed labels (its extra_labels), which win. Without it the kubernetes labels win over every rule.
   */
  fixedLabelsWin?: boolean;
}

export class StreamLabeler {
  private readonly rules: readonly LabelRule[];
  private readonly dynamic: readonly RecordAccessor[];
  private readonly fallback: readonly [string, string];
  private readonly cache: StringCache<string>;
  private readonly byLabels = new WeakMap<Readonly<Record<string, string>>, string>();
  private readonly kubernetesLabels: boolean;
  private readonly fixedLabelsWin: boolean;
  /** The label string when nothing depends on the event. */
  private readonly staticString: string | undefined;
  /** The rules' values for the last event, and its label string when they alone made it. */
  private readonly values: (string | undefined)[] = [];
  private lastRendered: string | undefined;
  /**
   * The top-level key every rule reads under (`kubernetes` for `$kubernetes['pod_name']` and
   * auto_kubernetes_labels), if there is one: a shared map there (shared-map.ts: frozen, as the
   * kubernetes filter's) always gives the same labels, kept per map while it lives.
   */
  private readonly sharedRoot: string | undefined;
  private readonly bySharedMap = new WeakMap<object, string | null>();

  constructor(rules: readonly LabelRule[], options: StreamLabelerOptions = {}) {
    this.rules = rules;
    this.dynamic = rules.flatMap((r) => (r.accessor ? [r.accessor] : []));
    this.fallback = options.fallback ?? ['job', 'floki'];
    this.cache = new StringCache<string>(options.cacheBytes ?? LABEL_CACHE_BYTES, stringBytes, LABEL_CACHE_MAX_KEY_CHARS);
    this.kubernetesLabels = options.autoKubernetesLabels === true;
    this.fixedLabelsWin = options.fixedLabelsWin === true;
    this.staticString = this.dynamic.length === 0 && !this.kubernetesLabels ? this.render(undefined, '', undefined) : undefined;
    const roots = new Set(this.dynamic.map((a) => (a.isTag ? undefined : String(a.path[0]))));
    if (this.kubernetesLabels) roots.add('kubernetes');
    this.sharedRoot = roots.size === 1 && !roots.has(undefined) ? [...roots][0] : undefined;
  }

  labelsFor(event: LogEvent): string {
    const extra = event.labels;
    if (this.staticString !== undefined) {
      if (extra === undefined) return this.staticString;
      // A frozen labels object (shared by a filter across events) renders to the same string every time.
      if (Object.isFrozen(extra)) {
        let rendered = this.byLabels.get(extra);
        if (rendered === undefined) {
          rendered = this.render(undefined, '', extra);
          // Kept as long as the filter keeps the object; a string of values too long for Loki is not.
          if (rendered.length <= LABEL_CACHE_MAX_KEY_CHARS) this.byLabels.set(extra, rendered);
        }
        return rendered;
      }
    }

    const root = this.sharedRoot;
    if (root !== undefined && extra === undefined) {
      const record = event.record;
      const map = Object.hasOwn(record, root) ? record[root] : undefined;
      if (map !== null && typeof map === 'object' && Object.isFrozen(map)) {
        let rendered = this.bySharedMap.get(map);
        if (rendered === undefined) {
          rendered = isSharedMap(map) ? this.fromValues(event, undefined) : null;
          // A string of values too long for Loki is not kept (as in the cache).
          if (rendered !== null && rendered.length > LABEL_CACHE_MAX_KEY_CHARS) rendered = null;
          this.bySharedMap.set(map, rendered);
        }
        if (rendered !== null) return rendered;
      }
    }
    return this.fromValues(event, extra);
  }

  /** The label string from the rules' values (and kubernetes labels, and the event's own labels). */
  private fromValues(event: LogEvent, extra: Readonly<Record<string, string>> | undefined): string {
    // Only rules that read the record make it be read (a forward event may not have built it yet).
    const record = this.dynamic.length > 0 || this.kubernetesLabels ? event.record : undefined;
    const tag = event.tag;
    const values = this.values;
    // Events come in runs of one stream (a chunk of one file, one pod): when the rules read the same
    // values as for the previous event, its label string is the answer, without building a key
    // and hashing it (a third of the labeler's time in W2, issue #12).
    let same = this.lastRendered !== undefined && !this.kubernetesLabels && extra === undefined;
    for (let i = 0; i < this.dynamic.length; i++) {
      const v = labelValue(this.dynamic[i]!.get(record!, tag));
      if (same && v !== values[i]) same = false;
      values[i] = v;
    }
    if (same) return this.lastRendered!;
    // The key encodes each value as `<length>:<value>` (or `|` when absent) so that no two different
    // value lists share a key, whatever characters the values hold.
    let key = '';
    for (let i = 0; i < this.dynamic.length; i++) {
      const v = values[i];
      key += v === undefined || v.length === 0 ? '|' : `${v.length}:${v}`;
    }
    if (this.kubernetesLabels) {
      const k8s = kubernetesLabelsOf(record!);
      if (k8s !== undefined) {
        key += '@';
        for (const name in k8s) {
          const v = k8s[name];
          if (typeof v === 'string' && v.length > 0) key += `${name.length}:${name}${v.length}:${v}`;
        }
      }
    }
    if (extra !== undefined) {
      key += '#';
      for (const name in extra) {
        const v = extra[name];
        key += `${name.length}:${name}${typeof v === 'string' ? `${v.length}:${v}` : '|'}`;
      }
    }

    let rendered = this.cache.get(key);
    if (rendered === undefined) {
      rendered = this.render(record, tag, extra);
      this.cache.set(key, rendered);
    }
    // Remembered only for what the shortcut covers (rule values alone), and for a string the cache
    // would keep (a set of values too long for Loki is rendered each time, as before).
    this.lastRendered = !this.kubernetesLabels && extra === undefined && key.length <= LABEL_CACHE_MAX_KEY_CHARS ? rendered : undefined;
    return rendered;
  }

  /** Bytes the rendered-label cache holds. */
  get cacheBytes(): number {
    return this.cache.bytes;
  }

  /** The labels of one event as a map (for tests and debugging; not the hot path). */
  labelMap(record: Record<string, unknown> | undefined, tag: string, extra: Record<string, string> | undefined): Map<string, string> {
    const labels = new Map<string, string>();
    for (const rule of this.rules) {
      const v = rule.accessor ? (record ? labelValue(rule.accessor.get(record, tag)) : undefined) : rule.value;
      if (v !== undefined && v.length > 0) labels.set(rule.name, v);
    }
    const k8s = this.kubernetesLabels && record ? kubernetesLabelsOf(record) : undefined;
    if (k8s !== undefined) {
      for (const name in k8s) {
        const v = k8s[name];
        if (typeof v === 'string' && v.length > 0) labels.set(sanitizeLabelName(name), v);
      }
      if (this.fixedLabelsWin) for (const rule of this.rules) if (rule.accessor === undefined && rule.value !== undefined && rule.value.length > 0) labels.set(rule.name, rule.value);
    }
    if (extra !== undefined) {
      for (const name in extra) {
        const v = extra[name];
        if (typeof v === 'string' && v.length > 0) labels.set(sanitizeLabelName(name), v);
      }
    }
    if (labels.size === 0) labels.set(this.fallback[0], this.fallback[1]);
    return labels;
  }

  private render(record: Record<string, unknown> | undefined, tag: string, extra: Record<string, string> | undefined): string {
    return renderLabelString(this.labelMap(record, tag, extra));
  }
}

/** `record.kubernetes.labels` when it is a map (own keys only). */
function kubernetesLabelsOf(record: Record<string, unknown>): Record<string, unknown> | undefined {
  const k8s = Object.hasOwn(record, 'kubernetes') ? record['kubernetes'] : undefined;
  if (k8s === null || typeof k8s !== 'object' || !Object.hasOwn(k8s, 'labels')) return undefined;
  const labels = (k8s as Record<string, unknown>)['labels'];
  return labels !== null && typeof labels === 'object' && !Array.isArray(labels) ? (labels as Record<string, unknown>) : undefined;
}
