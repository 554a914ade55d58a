/**
 * A package that fills a class's prototype with hundreds of methods after the class is
 * defined pays V8 O(n²) for it: a class prototype starts in fast mode, and each property
 * added to a fast-mode prototype copies its whole descriptor array. ioredis adds 634 to its
 * `Commander` (each Redis command and its `…Buffer` twin): ~35 ms of its ~70 ms load here,
 * and the garbage of those copies. A property added and deleted first puts the prototype in
 * dictionary mode, where an add is O(1); V8 makes it fast again once it caches a lookup
 * through it (ioredis's own load leads to one), so calls through it are as before.
 *
 * The build's bundler (`bundle.ts`) writes that line into each file listed here, just
 * before the loop. Where a new version of the package moved the loop, the bundle is made
 * without it and the build warns; `test/core/prototype-fill.test.ts` fails then too.
 */
import { readFileSync } from 'node:fs';
import type { Plugin } from 'esbuild';

export interface PrototypeFill {
  /** The package's file, by its path. */
  file: RegExp;
  /** The source text that starts the fill: the line goes just before it. */
  before: string;
  /** The prototype filled, as an expression in that file. */
  prototype: string;
}

export const PROTOTYPE_FILLS: readonly PrototypeFill[] = [{ file: /[\\/]ioredis[\\/]built[\\/]utils[\\/]Commander\.js$/, before: 'commands.forEach(', prototype: 'Commander.prototype' }];

/** The property added and deleted: named so that a reader of the bundle can find this file. */
export const DICTIONARY_MODE_KEY = '__aiGatewayDictionaryMode';

/** The line written before a fill: a property added and deleted, leaving the prototype in dictionary mode. */
export function dictionaryModeLine(prototype: string): string {
  return `{ const p = ${prototype}; p.${DICTIONARY_MODE_KEY} = 0; delete p.${DICTIONARY_MODE_KEY}; }\n`;
}

/** The esbuild plugin writing {@link dictionaryModeLine} into each file of `fills`. */
export function prototypeFills(fills: readonly PrototypeFill[] = PROTOTYPE_FILLS): Plugin {
  return {
    name: 'prototype-fill',
    setup(b) {
      for (const { file, before, prototype } of fills) {
        b.onLoad({ filter: file }, (args) => {
          const source = readFileSync(args.path, 'utf8');
          const at = source.indexOf(before);
          if (at === -1) {
            return { contents: source, loader: 'js', warnings: [{ text: `${args.path}: "${before}" not found, so ${prototype} is filled in fast mode (slower to load); update PROTOTYPE_FILLS in core/deps/prototype-fill.ts` }] };
          }
          return { contents: source.slice(0, at) + dictionaryModeLine(prototype) + source.slice(at), loader: 'js' };
        });
      }
    },
  };
}
