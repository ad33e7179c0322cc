'use strict';
// V8 garbage-collector settings for the registry's processes, applied by bin/ocireg.js before the app loads.
//
// Streaming a blob allocates a buffer per socket read and per file read; V8 accounts for their memory outside
// its heap and, with incremental marking on, keeps starting old-generation marking cycles whenever the slack
// left under the heap's limit looks small next to the young generation. A process can fall into a state where it
// runs a Mark-Compact every 60-100 ms for as long as it streams (measured: the distributed gateway ran 199
// Mark-Compacts during three 256 MiB pushes and pulls; the embedded registry fell into it in about half the
// runs), which doubles the CPU per MB. Without incremental marking, old-generation collections happen only when
// the heap actually reaches its limit: 4 in the same run, each an 18-28 ms pause on a ~30 MiB heap, while
// pushes went from 373-455 to 604-628 MB/s and pulls from 521-556 to 826-910 MB/s
// (`npm run bench -- --target distributed --baseline none --scenarios push-mono-256,pull-256 --sizes 256`).
//
// OCIREG_V8_FLAGS adds V8 flags of the operator's own after these (e.g. `--incremental-marking` to undo this,
// `--trace-gc` to watch the collector).
const V8_TUNING = Object.freeze(['--no-incremental-marking']);

/** The V8 flags to apply: ours, then the operator's (OCIREG_V8_FLAGS, space separated), which win. */
function v8Flags(env) {
  const own = (env.OCIREG_V8_FLAGS ?? '').split(/\s+/).filter(Boolean);
  return [...V8_TUNING, ...own];
}

/** Applies the flags to this process (GC flags take effect at the next collection decision). */
function applyV8Tuning(env) {
  const v8 = require('node:v8');
  for (const flag of v8Flags(env)) v8.setFlagsFromString(flag);
}

module.exports = { V8_TUNING, v8Flags, applyV8Tuning };
