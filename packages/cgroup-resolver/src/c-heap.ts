// The C heap (malloc) of the agent's process: what the HTTP client, the TLS stack, koffi and
// libbpf allocate outside V8's heap. glibc keeps memory freed there for later allocations;
// after the initial sync, which freed most of what the lists needed, that is tens of MB of RSS
// nothing will use soon.
import { bind, libc } from './libbpf/library.js';

const mallocTrim = bind<(pad: number) => number>(libc, 'int malloc_trim(size_t pad)');

/**
 * Gives the free memory of the C heap back to the kernel (glibc's malloc_trim).
 * @returns true when some was given back; false when none was, or the C library has no
 *   malloc_trim (not glibc)
 */
export function trimCHeap(): boolean {
  try {
    return mallocTrim(0) === 1;
  } catch {
    return false;
  }
}
