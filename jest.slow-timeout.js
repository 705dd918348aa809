// Integration and kernel tests talk to real components; kernel tests run under QEMU TCG,
// roughly ten times slower than the host. Generous per-test limits, not performance checks.
import { jest } from '@jest/globals';

jest.setTimeout(300_000);
