// Every workload `node bench/run.js` knows, and the default set `npm run bench` runs.
//
// A workload declares:
//   name, description
//   input            the driver that feeds it (bench/lib/drivers.js: forward, tail, none) and its
//                    options under the same key (forward: {...}, tail: {...})
//   events           events sent (forward); file inputs count theirs when the files are written
//   floki(ctx)       floki's config (YAML) for this run; ctx has dir, sinkPort, inputPort, httpPort,
//                    ports[name] for each name in `ports`, cli and root (floki's dist/cli.js and
//                    the repository, for a service that runs floki too), prepared (the driver's
//                    input: the tail files' manifest) and target ('floki' or 'fluentBit')
//   fluentBit(ctx)   optional: Fluent Bit's equivalent config (its YAML), run when FLUENT_BIT is set
//   readyPort(ctx)   optional: the port that, once listening, means Fluent Bit takes input (default:
//                    the forward input's); floki says so in its log
//   sink             the counting Loki's options ({ delayMs })
//   env              optional: environment of the process under test
//   ports            optional: names of extra ports to allocate (e.g. an API-server stand-in's)
//   services         optional: [async (ctx) => ({ close, note? })], started before the process, closed
//                    after; note() says what the service saw, on the run's line
//   knownDuplicates  optional: (target, prepared) => entries that process is known to send twice (a
//                    behaviour of Fluent Bit's the twin cannot avoid): at most that many may repeat
//   toleratesCutLines optional: (target) => true when that process's entries without a number (a line
//                    it cut in pieces) are shown on its run line instead of failing the run; every
//                    number must still arrive exactly once
//   idle             optional: { settleS, windowS }: measure the process at rest instead of a throughput run
//   reports          the figures (table columns) it reports, see bench/lib/report.js
//   rate             the figure the ratio to Fluent Bit compares ('events/s' or 'MiB/s in')
//   deadlineS        optional: seconds a run may take (default BENCH_DEADLINE_S, 120), unless
//                    BENCH_DEADLINE_S is set
//   compareTo        optional: { workload, figure, aim }: a line under the table gives floki's figure
//                    as a share of that workload's (run in the same invocation), against the aim
// Once published, keep a workload fixed so figures compare from commit to commit; add a new name for
// a new shape.

import { AGGREGATOR_WORKLOADS } from './aggregator.js';
import { FORWARD_WORKLOADS } from './forward.js';
import { IDLE_WORKLOADS } from './idle.js';
import { NODE_AGENT_WORKLOADS } from './node-agent.js';
import { PARSING_WORKLOADS } from './parsing.js';
import { TAIL_WORKLOADS } from './tail.js';

export const WORKLOADS = [...FORWARD_WORKLOADS, ...AGGREGATOR_WORKLOADS, ...TAIL_WORKLOADS, ...NODE_AGENT_WORKLOADS, ...PARSING_WORKLOADS, ...IDLE_WORKLOADS];

/** `npm run bench` without names: issue #12's three workloads and those in the README's table. */
export const DEFAULT_WORKLOADS = [
  'w1-forward-exporter',
  'w2-tail-cri',
  'idle',
  'forward-packed-1k-long',
  'forward-packed-1k-long-unthreaded',
  'forward-packed-1k',
  'forward-packed-1k-ack',
  'forward-compressed-1k',
  'forward-forward-1k',
  'forward-packed-1k-disk',
  'forward-packed-1k-slow-loki',
  'forward-aggregator-ack',
  'tail',
];
