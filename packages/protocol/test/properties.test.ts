/** Decoders see guest-controlled bytes: they return a value or throw ProtocolError, nothing else. */
import test from 'ava';
import fc from 'fast-check';
import {
  ProtocolError,
  decodeBootInfo,
  decodeConsoleWrite,
  decodeConsoleWriteHeader,
  decodeConsoleWriteSegments,
  decodeFaultReport,
  parseCmdline,
} from '../src/index.js';
import { readVectors } from './vector-file.js';

function onlyProtocolErrors(decode: () => unknown): boolean {
  try {
    decode();
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
  }
  return true;
}

const decoders: [string, string | undefined, (b: Uint8Array) => unknown][] = [
  ['decodeBootInfo', 'boot_info.vec', decodeBootInfo],
  ['decodeConsoleWrite', 'console_write.vec', decodeConsoleWrite],
  ['decodeConsoleWriteHeader', undefined, decodeConsoleWriteHeader],
  ['decodeFaultReport', 'fault_report.vec', decodeFaultReport],
  ['parseCmdline', undefined, parseCmdline],
];

/** A valid encoding with some bytes overwritten, then maybe cut short or extended. */
function mutated(seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .record({
      seed: fc.constantFrom(...seeds),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
      extra: fc.uint8Array({ maxLength: 32 }),
    })
    .map(({ seed, edits, cut, extra }) => {
      const b = Uint8Array.from(seed);
      for (const [at, v] of edits) if (b.length > 0) b[at % b.length] = v;
      const kept = cut === undefined ? b : b.subarray(0, cut % (b.length + 1));
      return Uint8Array.from([...kept, ...extra]);
    });
}

for (const [name, file, decode] of decoders) {
  test(`${name}: random bytes give a value or a ProtocolError`, (t) => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (b) => onlyProtocolErrors(() => decode(b))));
    t.pass();
  });

  if (file !== undefined) {
    const seeds = readVectors(file).valid.map((c) => c.bytes);
    test(`${name}: mutated and truncated valid bytes give a value or a ProtocolError`, (t) => {
      fc.assert(fc.property(mutated(seeds), (b) => onlyProtocolErrors(() => decode(b))), { numRuns: 2000 });
      t.pass();
    });
  }
}

test('decodeConsoleWriteSegments: any count and bytes give a value or a ProtocolError', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1200 }), fc.integer({ min: -2, max: 100 }), (b, count) =>
      onlyProtocolErrors(() => decodeConsoleWriteSegments(b, count)),
    ),
  );
  t.pass();
});
