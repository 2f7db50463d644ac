/**
 * What a followed file's lines go through, from its options: the container formats and split-line
 * joining (LineDecoder), then one stage, in Fluent Bit's order of precedence:
 * `multiline.parser` (its stack-trace and user parsers; `parser`, `docker_mode` and `multiline` are
 * then ignored, as Fluent Bit ignores them), else the old `multiline`, else `docker_mode` (followed by
 * `parser`), else `parser`, else none.
 */
import { DecoderCounts } from './decoder-counts.js';
import { DockerModeStage } from './docker-mode.js';
import type { KubernetesMetadata } from './kubernetes-path.js';
import { LineDecoder } from './line-decoder.js';
import { DirectStage, type LineStage } from './line-stage.js';
import { MultilineStage } from './multiline-stage.js';
import { OldMultilineStage } from './old-multiline.js';
import type { TailOptions, TailParsers } from './options.js';
import { ParserStage } from './parser-stage.js';
import { RecordBuilder } from './record-builder.js';

export interface FileLines {
  tag: string;
  path: string;
  kubernetes?: KubernetesMetadata;
}

export function lineDecoderFor(o: TailOptions, parsers: TailParsers, file: FileLines): LineDecoder {
  const counts = new DecoderCounts();
  const builder = new RecordBuilder({ tag: file.tag, key: o.key, pathKey: o.pathKey, path: file.path, offsetKey: o.offsetKey, kubernetes: file.kubernetes }, counts);
  let stage: LineStage;
  const direct = () => (parsers.parser !== undefined ? new ParserStage(parsers.parser, builder, counts) : new DirectStage(builder));
  if (parsers.multiline.length > 0) stage = new MultilineStage(parsers.multiline, builder, counts, o.formats.length > 0, o.key);
  else if (o.formats.length > 0) stage = new DirectStage(builder);
  else if (o.oldMultiline !== undefined) stage = new OldMultilineStage(parsers.firstline!, parsers.continuation, o.oldMultiline.flushMs, builder, counts);
  else if (o.dockerMode !== undefined) stage = new DockerModeStage(direct(), o.dockerMode.flushMs, parsers.dockerModeParser);
  else stage = direct();
  return new LineDecoder({ formats: o.formats, maxLineBytes: o.maxLineBytes, longLines: o.longLines, skipEmptyLines: o.skipEmptyLines, flushTimeoutMs: o.flushTimeoutMs }, builder, stage, counts);
}
