/** Fluentd's configuration format: the syntax into a tree of directives (the mapping comes later). */
export { parseFluentdFile, parseFluentdText, DEFAULT_LIMITS, type FluentdConfig, type FluentdLimits, type FluentdParseOptions } from './parser.js';
export { param, type FluentdElement, type FluentdParam } from './tree.js';
export { fluentdTagPatternSource } from './tag-pattern.js';
