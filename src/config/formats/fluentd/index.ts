/** Fluentd's configuration format: the syntax into a tree of directives (parser.ts), mapped onto the config model (map/). */
export { parseFluentdFile, parseFluentdText, DEFAULT_LIMITS, type FluentdConfig, type FluentdLimits, type FluentdParseOptions } from './parser.js';
export { param, type FluentdElement, type FluentdParam } from './tree.js';
export { fluentdTagPatternSource } from './tag-pattern.js';
export { readFluentdConfig, type FluentdReadOptions } from './map/index.js';
