// The worker's inbox: aggregates applied without the worker's own share, empty clock ranges, events before the
// snapshot, duplicates, and data-channel frames that count only once the coordinator confirmed the same bytes.
import { describe, expect, it } from 'vitest'
import { createCpuEngine } from '../../client/gpu/cpu-engine.ts'
import { Inbox, MISSING_AFTER_MS } from '../../client/train/inbox.ts'
import { sha256Hex } from '../../client/transport/digest.ts'
import { initialStatus } from '../../client/train/status.ts'
import { initParams, maxAbsDiff } from '../../model/params.ts'
import { planModel } from '../../model/plan.ts'
import { applyParts, type Part } from '../../model/update.ts'
import { packBinaries } from '../../protocol/bytes.ts'
import { encodeFrame, encodeParts } from '../../protocol/frames.ts'
import type { Snapshot } from '../../protocol/messages.ts'
import { mulberry32 } from '../helpers/random.ts'
import { randomParts, tinyDataset, tinyModel } from '../helpers/tiny-data.ts'

const data = tinyDataset()
const plan = planModel(tinyModel(), data)
const paths = ['sf', 'ps', 'ps', 'ps'] as const
const rand = mulberry32(11)

function setup(psFrom = 0) {
  const engine = createCpuEngine(plan)
  const model = initParams(plan)
  engine.setModel(model)
  const status = initialStatus()
  const reports: string[] = []
  const inbox = new Inbox(plan, 4, 'me', engine, status, () => {}, { report: (from, clock, kind) => reports.push(`${kind} ${from}:${clock}`), digest: sha256Hex })
  const snap: Snapshot = { clock: psFrom, model: new Uint8Array(0), vc: {}, pending: { from: [], frames: new Uint8Array(0) }, view: { min: psFrom, last: {} }, psFrom, corrections: 0 }
  return { engine, model, status, inbox, snap, reports }
}

const ps = (p: Part[]) => p.filter((q) => q.path === 'ps')
const sf = (p: Part[]) => p.filter((q) => q.path === 'sf')
function sum(a: Part[], b: Part[]): Part[] {
  return a.map((p, i) => ({ ...p, floats: p.floats.map((v, k) => v + b[i].floats[k]) }))
}

describe('Inbox', () => {
  it('applies an aggregate less this worker’s own share, once', async () => {
    const { engine, model, inbox, snap } = setup()
    inbox.start(snap)
    const mine = randomParts(plan, [...paths], 4, rand)
    const theirs = randomParts(plan, [...paths], 4, rand)
    engine.apply(mine, 4) // what the step did
    inbox.own(0, ps(mine))
    inbox.aggregate({ from: 0, to: 1, parts: encodeParts(sum(ps(mine), ps(theirs))) })
    const want = model.slice()
    applyParts(want, plan.tensors, mine, 4)
    applyParts(want, plan.tensors, ps(theirs), 4)
    expect(maxAbsDiff(await engine.readModel(), want)).toBeLessThan(1e-6)
    expect(inbox.psUpTo).toBe(1)
  })

  it('a clock range with no ps parts sends no aggregate: the clock event moves on without it; a real gap fails', () => {
    const { inbox, snap } = setup()
    inbox.start(snap)
    const agg = (from: number, to: number) => ({ from, to, parts: encodeParts(ps(randomParts(plan, [...paths], 4, rand))) })
    inbox.aggregate(agg(0, 1))
    inbox.clock(1)
    inbox.clock(2) // [1, 2) had nothing
    inbox.aggregate(agg(2, 3))
    expect(inbox.psUpTo).toBe(3)
    inbox.aggregate(agg(2, 3)) // a duplicate is ignored
    expect(() => inbox.aggregate(agg(5, 6))).toThrow(/ERR_BAD_SHAPE: server aggregate of clocks \[5, 6\) does not follow \[.., 3\)/)
  })

  it('keeps what arrives before the snapshot and applies it in order after', async () => {
    const { engine, model, inbox, snap } = setup(4)
    const a = ps(randomParts(plan, [...paths], 4, rand))
    const b = ps(randomParts(plan, [...paths], 4, rand))
    const peer = sf(randomParts(plan, [...paths], 4, rand))
    inbox.aggregate({ from: 4, to: 5, parts: encodeParts(a) })
    inbox.clock(5)
    inbox.clock(6) // nothing for [5, 6)
    inbox.aggregate({ from: 6, to: 7, parts: encodeParts(b) })
    inbox.frame({ from: 'p', frame: encodeFrame({ clock: 0, prev: -1, rows: 4, parts: peer }), via: 'relay' })
    inbox.start(snap)
    const want = model.slice()
    for (const p of [a, b]) applyParts(want, plan.tensors, p, 0)
    applyParts(want, plan.tensors, peer, 4)
    expect(maxAbsDiff(await engine.readModel(), want)).toBeLessThan(1e-6)
    expect(inbox.psUpTo).toBe(7)
  })

  it('drops duplicates and malformed frames with counts; a departed peer’s unconfirmed frames never count', async () => {
    const { engine, model, status, inbox, snap } = setup()
    inbox.start(snap)
    const f0 = sf(randomParts(plan, [...paths], 4, rand))
    const f1 = sf(randomParts(plan, [...paths], 4, rand))
    const frame0 = encodeFrame({ clock: 0, prev: -1, rows: 4, parts: f0 })
    inbox.frame({ from: 'p', frame: frame0, via: 'p2p' })
    inbox.frame({ from: 'p', frame: frame0, via: 'relay' }) // the coordinator's copy counts at once
    inbox.frame({ from: 'p', frame: frame0, via: 'relay' })
    inbox.frame({ from: 'p', frame: encodeFrame({ clock: 1, prev: 0, rows: 4, parts: f1 }), via: 'p2p' })
    inbox.frame({ from: 'p', frame: new Uint8Array(5), via: 'p2p' })
    expect(status.duplicates).toBe(1)
    expect(status.rejectedFrames).toBe(1)
    expect(inbox.left('p', 0)).toBe(0) // clock 1 never reached the coordinator: it is dropped, never applied
    const want = model.slice()
    applyParts(want, plan.tensors, f0, 4)
    expect(maxAbsDiff(await engine.readModel(), want)).toBeLessThan(1e-6)
    expect(inbox.view().vc).toEqual({ p: 0 })
  })

  it('applies a data-channel frame only once the coordinator confirms its digest, in chain order', async () => {
    const { engine, model, status, inbox, snap, reports } = setup()
    inbox.start(snap)
    const f0 = sf(randomParts(plan, [...paths], 4, rand))
    const f1 = sf(randomParts(plan, [...paths], 4, rand))
    const frame0 = encodeFrame({ clock: 0, prev: -1, rows: 4, parts: f0 })
    const frame1 = encodeFrame({ clock: 1, prev: 0, rows: 4, parts: f1 })
    inbox.frame({ from: 'p', frame: frame1, via: 'p2p' })
    inbox.frame({ from: 'p', frame: frame0, via: 'p2p' })
    expect(maxAbsDiff(await engine.readModel(), model)).toBe(0) // nothing counts before the coordinator says so
    inbox.confirm({ from: 'p', clock: 1, digest: await sha256Hex(frame1) })
    await new Promise((r) => setTimeout(r, 10))
    expect(inbox.view().vc).toEqual({}) // clock 1 waits for clock 0
    expect(inbox.gapAge('p')).toBeGreaterThanOrEqual(5) // a later one is in, an earlier one is not, since ≥ 10 ms
    inbox.confirm({ from: 'p', clock: 0, digest: await sha256Hex(frame0) })
    await new Promise((r) => setTimeout(r, 10))
    expect(inbox.view().vc).toEqual({ p: 1 })
    expect(inbox.gapAge('p')).toBe(0)
    const want = model.slice()
    applyParts(want, plan.tensors, f0, 4)
    applyParts(want, plan.tensors, f1, 4)
    expect(maxAbsDiff(await engine.readModel(), want)).toBeLessThan(1e-6)
    expect(status.applied).toBe(2)
    expect(reports).toEqual([])
  })

  it('drops and reports a frame that differs from what the coordinator accepted, and one that never came', async () => {
    const { engine, model, status, inbox, snap, reports } = setup()
    inbox.start(snap)
    const honest = sf(randomParts(plan, [...paths], 4, rand))
    const lie = honest.map((p) => ({ ...p, floats: p.floats.map((v) => v * 1000) }))
    inbox.frame({ from: 'p', frame: encodeFrame({ clock: 0, prev: -1, rows: 4, parts: lie }), via: 'p2p' })
    inbox.confirm({ from: 'p', clock: 0, digest: await sha256Hex(encodeFrame({ clock: 0, prev: -1, rows: 4, parts: honest })) })
    await new Promise((r) => setTimeout(r, 10))
    expect(reports).toEqual(['mismatch p:0'])
    expect(status.mismatches).toBe(1)
    expect(maxAbsDiff(await engine.readModel(), model)).toBe(0)
    inbox.confirm({ from: 'q', clock: 0, digest: 'ab'.repeat(32) })
    await new Promise((r) => setTimeout(r, MISSING_AFTER_MS + 50))
    expect(reports).toEqual(['mismatch p:0', 'missing q:0'])
    expect(status.missingDirect).toBe(1)
  })

  it('takes back a quarantined peer: negates its frames applied after the cut, drops those waiting, undoes its server deltas', async () => {
    const { engine, model, status, inbox, snap } = setup()
    inbox.start(snap)
    const frames = [0, 1, 2, 3].map((c) => ({ clock: c, prev: c - 1, rows: 4, parts: sf(randomParts(plan, [...paths], 4, rand)) }))
    // clocks 0 and 1 applied; 3 waits for 2, which never came
    for (const f of [frames[0], frames[1], frames[3]]) inbox.frame({ from: 'q', frame: encodeFrame(f), via: 'relay' })
    expect(inbox.view().vc).toEqual({ q: 1 })
    const psUndo = ps(randomParts(plan, [...paths], 4, rand))
    inbox.correction({ seq: 0, from: 'q', after: 0, frames: packBinaries(frames.slice(1).map((f) => encodeFrame(f))), ps: encodeParts(psUndo) })
    const want = model.slice()
    applyParts(want, plan.tensors, frames[0].parts, 4)
    applyParts(want, plan.tensors, psUndo, 0)
    expect(maxAbsDiff(await engine.readModel(), want)).toBeLessThan(1e-6)
    expect(inbox.view()).toMatchObject({ vc: { q: 0 }, corrections: 1 })
    expect(status.corrections).toBe(1)
    // what comes of it later (frame 2 on a slow relay) does not count; a replayed correction changes nothing
    inbox.frame({ from: 'q', frame: encodeFrame(frames[2]), via: 'relay' })
    inbox.correction({ seq: 0, from: 'q', after: 0, frames: packBinaries([]), ps: encodeParts(psUndo) })
    expect(maxAbsDiff(await engine.readModel(), want)).toBeLessThan(1e-6)
    expect(inbox.view().vc).toEqual({ q: 0 })
  })
})
