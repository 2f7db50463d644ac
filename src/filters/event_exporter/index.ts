import type { FilterPlugin } from '../../core/registry-types.js';
import { EventExporterFilter, eventExporterOptions } from './filter.js';

export { EventExporterFilter, eventExporterOptions, EVENT_EXPORTER_RECORDS_METRIC } from './filter.js';
export { eventLabels, parseExporterLine, isExporterEvent } from './recognise.js';

export const eventExporterFilter: FilterPlugin = {
  kind: 'filter',
  name: 'event_exporter',
  description:
    'Recognises kubernetes-event-exporter events (a parsed record, or its JSON in `log`/`message`) and sets the Loki labels type, reason, kind and namespace and the exact line',
  options: eventExporterOptions,
  create: (options, ctx) => new EventExporterFilter(options, ctx),
};
