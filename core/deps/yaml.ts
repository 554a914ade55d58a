/**
 * The `yaml` values the gateway uses, loaded through {@link loadBundled} (one file at
 * start-up, not 72). Its node checks (`isScalar`, …) read a `Symbol.for` tag, so they hold
 * for documents from either copy.
 */
import type * as Yaml from 'yaml';
import { loadBundled } from './bundled.js';

const yaml = loadBundled<typeof Yaml>('yaml');

export const { LineCounter, isMap, isNode, isPair, isScalar, isSeq, parse, parseAllDocuments, parseDocument, visit } = yaml;
export type LineCounter = Yaml.LineCounter;
export type Document = Yaml.Document;
