/**
 * The instruction bench's reading of callgrind dumps: each function's own instructions, not
 * its callees' (the line after `calls=`), with names defined once and then referred to by
 * number, on `fn=` or first on a `cfn=` line; JIT code named from V8's perf map.
 */
import t from 'tap';
import { medianWindow, nameJitCode, parseProfile, shareOf, withoutCompiler, type Profile } from '../../bench/lib/callgrind.js';

// Shaped as callgrind 3.19 writes with --dump-line=no.
const DUMP = `# callgrind format
version: 1
creator: callgrind-3.19.0
positions: line
events: Ir
summary: 1700

ob=(4) /usr/bin/node
fl=(44) ???
fn=(10) node::SpinEventLoopInternal(node::Environment*)
0 100
cfn=(11) Builtins_LoadIC
calls=3 0
0 900
cfn=(12) 0x000000000d093d80
calls=1 0
0 600

fn=(11)
0 300
+2 100
* 50

fn=(12)
0 550
cfn=(11)
calls=1 0
0 50
fn=(13) v8::internal::Heap::Scavenge()
0 600
`;

t.test('self cost per function, callees excluded, compressed names resolved', async (t) => {
  const p = parseProfile(DUMP);
  t.equal(p.self.get('node::SpinEventLoopInternal(node::Environment*)'), 100, 'the calls’ inclusive costs are not the caller’s');
  t.equal(p.self.get('Builtins_LoadIC'), 450, 'named on a cfn= line, costed under fn=(11) with relative positions');
  t.equal(p.self.get('0x000000000d093d80'), 550);
  t.equal(p.self.get('v8::internal::Heap::Scavenge()'), 600);
  t.equal(p.total, 1700, 'the self costs add up to the summary');
  t.notOk([...p.self.keys()].some((k) => k.startsWith('(')), 'no name left as a bare number');
});

t.test('JIT code is named by the last code object V8 mapped over its address', async (t) => {
  const map = [
    'd093d00 100 JS:*old /app/gateway.cjs:1:1', // collected; its range was reused below
    'd093d80 40 JS:*onRequest /app/gateway.cjs:10:2',
    'd093d80 60 JS:*onRequestAgain /app/gateway.cjs:10:2',
    'e000000 10 RegExp:[A-Z]',
  ].join('\n');
  const p = nameJitCode(
    {
      total: 10,
      self: new Map([
        ['0x000000000d093d80', 4],
        ['0x000000000d093dd0', 1], // inside the later, longer object at d093d80
        ['0x000000000e000008', 2],
        ['0x000000000f000000', 3], // no code object here
      ]),
    },
    map,
  );
  t.same(Object.fromEntries(p.self), { 'JS *onRequestAgain /app/gateway.cjs:10:2': 5, 'JS RegExp:[A-Z]': 2, '0x000000000f000000': 3 });
  t.equal(p.total, 10);
});

t.test('shares: JIT code by address, builtins, the collector, the runtime, Node', async (t) => {
  t.equal(shareOf('0x000022205106c040'), 'JavaScript (JIT code)');
  t.equal(shareOf('JS RegExp:[A-Z]'), 'JavaScript (JIT code)');
  t.equal(shareOf('sha256_block_data_order_avx2'), 'crypto (OpenSSL)');
  t.equal(shareOf('v8::internal::compiler::GraphReducer::ReduceTop()'), 'V8 compiler');
  t.equal(shareOf('heap::base::SlotCallbackResult v8::internal::Scavenger::ScavengeObject<v8::internal::FullHeapObjectSlot>(x)'), 'garbage collector');
  t.equal(shareOf('void node::Buffer::(anonymous namespace)::StringSlice<(node::encoding)4>(v8::FunctionCallbackInfo<v8::Value> const&)'), 'Node, libuv, llhttp');
  t.equal(shareOf('__vfprintf_internal'), 'libc, libstdc++');
  t.equal(shareOf('Builtins_KeyedLoadIC_Megamorphic'), 'V8 builtins');
  t.equal(shareOf('v8::internal::Heap::Scavenge()'), 'garbage collector');
  t.equal(shareOf('v8::internal::Factory::AllocateRaw(int, v8::internal::AllocationType, v8::internal::AllocationAlignment)'), 'V8 runtime');
  t.equal(shareOf('llhttp__internal_execute'), 'Node, libuv, llhttp');
  t.equal(shareOf('_int_malloc'), 'libc, libstdc++');
});

t.test('medianWindow: the window whose count is the median, by total or by a reading', async (t) => {
  const w = (total: number, compiler: number): Profile => ({ total, self: new Map([['v8::internal::compiler::Pipeline', compiler], ['Builtins_LoadIC', total - compiler]]) });
  const windows = [w(300, 100), w(250, 0), w(260, 100)];
  t.equal(medianWindow(windows).total, 260, 'by total: 250, 260, 300');
  t.equal(medianWindow(windows, withoutCompiler).total, 300, 'without the compiler: 200, 250, 160, so the window of 200');
  t.same(windows.map((p) => p.total), [300, 250, 260], 'the windows are left in their order');
});
