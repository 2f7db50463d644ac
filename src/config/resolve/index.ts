/**
 * The config model, validated against the plugins' option tables, into what the engine runs. Works
 * the same for every format; every problem is collected, each with its file and line.
 */
import type { FlokiConfig, PluginInstanceConfig } from '../../core/pipeline-config.js';
import type { ParserRegistry, ParserSpec } from '../../parsers/registry.js';
import { CONFIG_LIMITS } from '../limits.js';
import type { ConfigModel, PluginSection } from '../model.js';
import { Variables } from '../variables.js';
import type { PluginRegistry } from '../../core/registry-types.js';
import { resolveInstance, type InstanceContext } from './instances.js';
import { Report } from './report.js';
import { resolveService } from './service.js';

export interface Resolved {
  config?: FlokiConfig;
  report: Report;
}

export function variablesOf(model: ConfigModel, environment: NodeJS.ProcessEnv): Variables {
  return new Variables(model.variables, environment, model.format === 'yaml' ? 'env' : '@SET', model.format === 'fluentd');
}

export function resolveModel(model: ConfigModel, registry: PluginRegistry, variables: Variables, parsers: ParserRegistry, report = new Report()): Resolved {
  for (const r of model.refused) report.problem(r, `${r.name} is not supported by floki (${r.reason})`);
  for (const i of model.ignored) report.warning(i, `${i.name} is ignored by floki (${i.reason})`);
  for (const w of model.warnings ?? []) report.warning(w, w.message);

  const service = resolveService(model.service, variables, report, model.file);

  const sections = [...model.inputs, ...model.filters, ...model.outputs];
  const count = sections.reduce((n, s) => n + 1 + s.processors.length, 0);
  if (count > CONFIG_LIMITS.instances) {
    report.problem({ file: model.file, line: 0 }, `the config has ${count} plugin instances, more than the ${CONFIG_LIMITS.instances} floki accepts`);
    return { report };
  }

  defineParsers(model.parsers, (s) => parsers.define(s), variables, report);
  defineParsers(model.multilineParsers, (s) => parsers.defineMultiline(s), variables, report);
  for (const p of parsers.validate()) report.problem(p, p.message);

  const ctx: InstanceContext = { registry, variables, report, parsers, counters: new Map() };
  const config: FlokiConfig = { file: model.file, service, inputs: [], filters: [], outputs: [], parsers, warnings: report.warnings };
  for (const [list, target, name] of [
    [model.inputs, config.inputs, 'inputs'],
    [model.filters, config.filters, 'filters'],
    [model.outputs, config.outputs, 'outputs'],
  ] as const) {
    list.forEach((section, index) => {
      const instance = resolveInstance(section, index, `${name}[${index}]`, ctx);
      if (!instance) return;
      const processors = resolveProcessors(section, `${name}[${index}]`, ctx);
      if (processors.length) instance.processors = processors;
      target.push(instance);
    });
  }

  for (const instance of [...config.inputs, ...config.outputs]) {
    if (instance.storageType === 'filesystem' && service.storagePath === undefined) {
      report.problem({ file: instance.file ?? model.file, line: instance.line }, `${instance.section}[${instance.index}] (${instance.plugin.name}): storage.type filesystem needs 'storage.path' in service`);
    }
  }
  if (model.inputs.length === 0) report.problem({ file: model.file, line: 1 }, 'the pipeline has no inputs');
  if (model.outputs.length === 0) report.problem({ file: model.file, line: 1 }, 'the pipeline has no outputs');
  return report.problems.length ? { report } : { config, report };
}

function resolveProcessors(section: PluginSection, where: string, ctx: InstanceContext): PluginInstanceConfig[] {
  const out: PluginInstanceConfig[] = [];
  section.processors.forEach((p, i) => {
    const instance = resolveInstance(p, i, `${where}.processors.logs[${i}]`, ctx, true);
    if (instance) out.push(instance);
  });
  return out;
}

/** Parser definitions with their `${VAR}`s replaced (as Fluent Bit does), into the registry. */
function defineParsers(specs: readonly ParserSpec[], define: (spec: ParserSpec) => ReturnType<ParserRegistry['define']>, variables: Variables, report: Report): void {
  for (const spec of specs) {
    let ok = true;
    const entries = spec.entries.map((e) => {
      const r = variables.expand(e.value);
      if ('value' in r) return { ...e, value: r.value };
      ok = false;
      report.problem({ file: spec.file, line: e.line }, `parser key '${e.key}': ${r.error}`);
      return e;
    });
    if (!ok) continue;
    for (const p of define({ ...spec, entries })) report.problem(p, p.message);
  }
}
