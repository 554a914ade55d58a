/**
 * The primary's single-writer host: one real writer per kind and key however many
 * workers open it, records applied in arrival order across flushes, closed when the last
 * handle closes or at shutdown, kept for the replacement of a worker that died.
 */
import t from 'tap';
import { defineWriterKind, definedWriterKind, localWriters } from '../../core/cluster/single-writer.js';
import { WriterHost } from '../../core/cluster/writer-host.js';
import { silentLogger } from '../../core/logger.js';
import { memoryWriterKind, memoryWriterLogs } from '../helpers/memory-writer.js';

const open = (h: number, name: string) => ({ t: 'gw:w:open' as const, h, module: memoryWriterKind.module, exportName: memoryWriterKind.exportName, key: name, options: { name } });

t.test('two workers share one writer; order holds across flushes; the last close closes it', async (t) => {
  const host = new WriterHost(silentLogger);
  await host.handle(1, open(1, 'a'));
  await host.handle(2, open(1, 'a'));
  const done = [
    host.handle(1, { t: 'gw:w:write', h: 1, records: [1, 2] }),
    host.handle(1, { t: 'gw:w:flush', h: 1, id: 9 }),
    host.handle(2, { t: 'gw:w:write', h: 1, records: [3] }),
    host.handle(1, { t: 'gw:w:close', h: 1, id: 10 }),
  ];
  t.same(await Promise.all(done), [undefined, undefined, undefined, undefined]);
  const log = memoryWriterLogs.get('a')!;
  t.equal(log.created, 1, 'one writer for the key');
  t.same(log.records, [1, 2, 3]);
  t.same(log.events, ['flush:2', 'flush:3'], 'a close that leaves another handle only flushes');
  await host.handle(2, { t: 'gw:w:close', h: 1, id: 11 });
  t.same(log.events, ['flush:2', 'flush:3', 'close:3'], 'the last close closes the writer');
});

t.test('a dead worker drops its handles; its replacement reuses the writer; shutdown closes it', async (t) => {
  const host = new WriterHost(silentLogger);
  await host.handle(1, open(1, 'b'));
  await host.handle(1, { t: 'gw:w:write', h: 1, records: ['x'] });
  host.dropWorker(1);
  await host.handle(3, open(1, 'b'));
  await host.handle(3, { t: 'gw:w:write', h: 1, records: ['y'] });
  const log = memoryWriterLogs.get('b')!;
  t.equal(log.created, 1);
  t.same(log.events, [], 'not closed by the crash');
  await host.close();
  t.same(log.records, ['x', 'y']);
  t.same(log.events, ['close:2']);
  t.match(await host.handle(9, { t: 'gw:w:flush', h: 1, id: 1 }), /unknown writer handle/);
});

t.test('a factory that cannot be found drops records without failing the host', async (t) => {
  const host = new WriterHost(silentLogger);
  await host.handle(1, { ...open(1, 'c'), exportName: 'missing' });
  t.equal(await host.handle(1, { t: 'gw:w:write', h: 1, records: [1] }), undefined);
  await host.close();
});

t.test('a kind this process already defined is used without importing its module again', async (t) => {
  // The bundled gateway names each kind by its tsc file, which importing would load a
  // second time beside the bundle; a module that cannot be imported proves it is not.
  const records: unknown[] = [];
  const kind = defineWriterKind<unknown, object>('file:///nowhere/not-a-module.js', 'inMemory', () => ({ write: (r) => void records.push(r), close: async () => {} }));
  t.equal(definedWriterKind(kind.module, kind.exportName), kind);
  t.equal(definedWriterKind(kind.module, 'other'), undefined);
  const host = new WriterHost(silentLogger);
  await host.handle(1, { t: 'gw:w:open', h: 1, module: kind.module, exportName: kind.exportName, key: 'k', options: {} });
  await host.handle(1, { t: 'gw:w:write', h: 1, records: ['kept'] });
  await host.close();
  t.same(records, ['kept']);
});

t.test('in one process, open() creates the real writer here', async (t) => {
  const w = localWriters(silentLogger).open(memoryWriterKind, 'd', { name: 'd' });
  w.write('z');
  await w.flush();
  w.reconfigure({ name: 'd', tag: 'reloaded' });
  await w.close();
  t.same(memoryWriterLogs.get('d'), { created: 1, records: ['z'], events: ['flush:1', 'options:reloaded', 'close:1'] });
});

t.test("a reload's new options reach the primary's writer, after the records sent before them", async (t) => {
  const host = new WriterHost(silentLogger);
  await host.handle(1, { ...open(1, 'e'), options: { name: 'e', tag: 'first' } });
  const done = [host.handle(1, { t: 'gw:w:write', h: 1, records: [1] }), host.handle(1, { t: 'gw:w:options', h: 1, options: { name: 'e', tag: 'second' } }), host.handle(1, { t: 'gw:w:flush', h: 1, id: 2 })];
  t.same(await Promise.all(done), [undefined, undefined, undefined]);
  await host.handle(1, { t: 'gw:w:close', h: 1, id: 3 });
  // A record that outlives the close reopens the writer, with the options it was last given.
  await host.handle(1, { t: 'gw:w:write', h: 1, records: [2] });
  await host.close();
  t.same(memoryWriterLogs.get('e')!.events, ['created:first', 'options:second', 'flush:1', 'close:1', 'created:second', 'close:2']);
});
