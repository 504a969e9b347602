// `npm run bench`: every benchmark, each comparing two ways side by side in one run and printing the ratio.
// Runs under Vitest (for its WGSL ?raw imports), as plain tests with no assertions on speed.
import { it } from 'vitest'
import { benchComm } from './comm.ts'
import { benchDurable } from './durable.ts'
import { benchKernels } from './kernels.ts'
import { benchStaleness } from './staleness.ts'

it('kernels: one training step, WebGPU engine vs CPU engine', benchKernels, 600_000)
it('staleness: SSP (s=3) vs BSP (s=0) with a straggler', benchStaleness, 600_000)
it("communication: bytes per clock, Poseidon's hybrid vs all-SF vs all-PS at 4, 16, 64 workers", benchComm, 600_000)
it('durability: accepted updates/s with a data directory vs in memory', benchDurable, 600_000)
