// The volunteer page's pure logic: the state sentence, the tally of what the tab gave, its share, and the device words.
import { describe, expect, it } from 'vitest'
import type { RaceResult } from '../../client/gpu/engine-race.ts'
import { initialStatus, type WorkerStatus } from '../../client/train/status.ts'
import { adapterName, raceSentence } from '../../client/volunteer/device.ts'
import { shareText } from '../../client/volunteer/gave.ts'
import type { JobGlance } from '../../protocol/job.ts'
import { describeState, errorCode, type PageContext } from '../../client/volunteer/state.ts'
import { count, minutes, Tally } from '../../client/volunteer/tally.ts'
import type { JobInfo, JobState } from '../../protocol/job.ts'

const free: PageContext = { tied: false, left: false, waitingForJob: false }
const tied: PageContext = { tied: true, left: false, waitingForJob: false }

function job(state: JobState, id = 'j1', minWorkers = 2): JobInfo {
  return { id, name: `job ${id}`, state, hyper: { minWorkers } } as JobInfo
}
function status(over: Partial<WorkerStatus>): WorkerStatus {
  return { ...initialStatus(), workerId: 'w1', ...over }
}
const failed = (error: string, workerId = 'w1') => status({ phase: 'error', error, workerId })

describe('describeState', () => {
  it('says it is connecting, as a wait', () => {
    expect(describeState(status({ phase: 'connecting', workerId: '' }), free)).toEqual({ state: 'connecting', tone: 'wait', sentence: 'Connecting to the coordinator…' })
  })

  it('waits for a job when none takes workers, never as an error', () => {
    for (const e of ['ERR_UNKNOWN_JOB: no job', 'ERR_JOB_CLOSED: job j1 is done']) {
      const v = describeState(failed(e, ''), free)
      expect(v.state).toBe('waiting-for-job')
      expect(v.tone).toBe('wait')
      expect(v.sentence).toMatch(/waiting for the next one/)
      expect(describeState(failed(e, ''), tied)).toMatchObject({ state: 'no-job', tone: 'wait' })
    }
    // the next session's connecting is more of the same wait
    expect(describeState(status({ phase: 'connecting' }), { ...free, waitingForJob: true }).state).toBe('waiting-for-job')
  })

  it('waits for the job to start, saying how many tabs it needs', () => {
    const v = describeState(status({ phase: 'waiting', job: job('pending', 'j1', 3) }), free)
    expect(v).toEqual({ state: 'waiting-to-start', tone: 'wait', sentence: 'Waiting for the job to start. It starts once 3 tabs have joined.' })
    expect(describeState(status({ phase: 'waiting', job: job('pending', 'j1', 1) }), free).sentence).toMatch(/once 1 tab has joined\.$/)
  })

  it('says the operator paused the job, without repeating the plain reason', () => {
    const v = describeState(status({ phase: 'waiting', job: job('paused'), jobReason: 'paused by the operator' }), free)
    expect(v.state).toBe('operator-paused')
    expect(v.tone).toBe('paused')
    expect(v.sentence).toBe('Paused by the job’s operator. This tab waits and goes on when they resume it.')
    const other = describeState(status({ phase: 'waiting', job: job('paused'), jobReason: 'disk full' }), free)
    expect(other.sentence).toMatch(/^Paused by the job’s operator \(disk full\)\./)
  })

  it('says it trains, with the throttle, for either app', () => {
    for (const phase of ['training', 'waiting-slowest', 'waiting-updates', 'idle'] as const) {
      expect(describeState(status({ phase, job: job('running') }), free)).toEqual({ state: 'training', tone: 'busy', sentence: 'Training the job’s model with other tabs.' })
    }
    expect(describeState(status({ phase: 'training', job: job('running'), duty: 0.5 }), free).sentence).toBe('Training the job’s model with other tabs, 50 % of the time.')
    expect(describeState(status({ phase: 'training', app: 'lasso', job: job('running') }), free).sentence).toMatch(/^Solving the job’s Lasso problem/)
  })

  it('says the volunteer paused it, finishing the step first, even while the operator pauses too', () => {
    expect(describeState(status({ phase: 'training', paused: true, job: job('running') }), free)).toEqual({ state: 'paused', tone: 'paused', sentence: 'Paused (by you). Finishing the current step…' })
    expect(describeState(status({ phase: 'paused', paused: true, job: job('running') }), free).sentence).toMatch(/press Resume/)
    expect(describeState(status({ phase: 'waiting', paused: true, job: job('paused') }), free).state).toBe('paused')
  })

  it('thanks the volunteer when the job is done, and says an untied tab goes on', () => {
    const v = describeState(status({ phase: 'done', job: job('done') }), free)
    expect(v.state).toBe('done')
    expect(v.tone).toBe('done')
    expect(v.sentence).toMatch(/thank you/)
    expect(v.sentence).toMatch(/joins the next job/)
    expect(describeState(status({ phase: 'done', job: job('done') }), tied).sentence).not.toMatch(/next job/)
  })

  it('thanks the volunteer when the operator cancels the job, with no error tone', () => {
    const v = describeState(status({ phase: 'done', job: job('failed'), jobReason: 'cancelled by the operator' }), free)
    expect(v.state).toBe('cancelled')
    expect(v.tone).toBe('done')
    expect(v.sentence).toMatch(/^The job was cancelled by its operator — thank you for your help!/)
    expect(describeState(status({ phase: 'done', job: job('failed'), jobReason: 'diverged' }), free).sentence).toMatch(/^The job was stopped \(diverged\) — thank you/)
  })

  it('shows real errors with the error tone and a sentence for people', () => {
    const lost = describeState(failed('ERR_GPU_LOST: device lost'), free)
    expect(lost).toMatchObject({ state: 'error', tone: 'error' })
    expect(lost.sentence).toMatch(/GPU stopped working.*Reload the page/)
    expect(describeState(failed('ERR_QUARANTINED: bad update'), free)).toMatchObject({ state: 'error', tone: 'error', sentence: expect.stringMatching(/refused this tab’s work/) })
    expect(describeState(failed('ERR_WHATEVER: it broke'), free).sentence).toBe('Stopped by an error: it broke')
    expect(describeState(failed('ERR_TIMEOUT: no answer'), free).tone).toBe('error') // after hello's answer
  })

  it('reconnects by itself after a dropped connection, as a wait', () => {
    for (const e of ['ERR_DISCONNECTED: socket closed', 'ERR_REBASED: rejoin']) expect(describeState(failed(e), free)).toMatchObject({ state: 'reconnecting', tone: 'wait' })
    expect(describeState(failed('ERR_TIMEOUT: no answer', ''), free)).toMatchObject({ state: 'reconnecting', tone: 'wait' })
  })

  it('says the volunteer left, whatever the status', () => {
    expect(describeState(status({ phase: 'training', job: job('running') }), { ...free, left: true })).toMatchObject({ state: 'left', tone: 'done' })
  })

  it('reads the code an error message starts with', () => {
    expect(errorCode('ERR_GPU_LOST: device lost')).toBe('ERR_GPU_LOST')
    expect(errorCode('device lost')).toBe('')
    expect(errorCode(undefined)).toBe('')
  })
})

describe('Tally', () => {
  it('adds up samples and minutes over two sessions and two jobs', () => {
    let now = 0
    const tally = new Tally(() => now)
    const a = job('running', 'a')
    tally.newSession()
    tally.observe(status({ phase: 'training', job: a, samples: 100 }))
    now += 60_000
    tally.tick()
    tally.observe(status({ phase: 'training', job: a, samples: 250 }))
    // a new session on the same job counts from zero again
    tally.newSession()
    tally.observe(status({ phase: 'training', job: a, samples: 50 }))
    now += 30_000
    tally.tick()
    tally.observe(status({ phase: 'done', job: job('done', 'a'), samples: 50 }))
    now += 10_000 // done: not work
    tally.tick()
    tally.newSession()
    const b = job('running', 'b')
    tally.observe(status({ phase: 'training', job: b, samples: 40 }))
    now += 60_000
    tally.tick()
    expect(tally.job('a')).toMatchObject({ work: 300, ms: 90_000, name: 'job a' })
    expect(tally.job('b')).toMatchObject({ work: 40, ms: 60_000 })
    expect(tally.totals()).toEqual({ samples: 340, updates: 0, ms: 150_000, jobs: 2 })
    expect(minutes(tally.totals().ms)).toBe('2 min')
  })

  it('counts no time while paused or waiting, and Lasso work as updates', () => {
    let now = 0
    const tally = new Tally(() => now)
    tally.newSession()
    tally.observe(status({ phase: 'training', paused: true, job: job('running') }))
    now += 5_000
    tally.tick()
    tally.observe(status({ phase: 'waiting', job: job('paused') }))
    now += 5_000
    tally.tick()
    expect(tally.job('j1')?.ms).toBe(0)
    expect(tally.totals().jobs).toBe(0) // a job with no work is not counted
    tally.observe(status({ phase: 'training', app: 'lasso', job: job('running', 'l'), lasso: { round: 1, view: 0, tasks: 1, updates: 12, blocks: [0], columns: 8, lambda: 0.1 } }))
    expect(tally.totals()).toMatchObject({ samples: 0, updates: 12, jobs: 1 })
  })
})

describe('shareText', () => {
  const sgd = (samples: number) => ({ app: 'sgd', samples }) as JobGlance
  it('gives the tab’s share of the job’s work, clamped to 100 %', () => {
    expect(shareText(1200, sgd(8000))).toBe(`15 % of the job’s ${(8000).toLocaleString()} samples`)
    expect(shareText(50, sgd(8000))).toBe(`0.6 % of the job’s ${(8000).toLocaleString()} samples`)
    expect(shareText(9000, sgd(8000))).toMatch(/^100 % of the job’s/)
    expect(shareText(5, { app: 'lasso', updates: 10 } as JobGlance)).toBe('50 % of the job’s 10 coordinate updates')
  })

  it('says so while there is no detail or no work yet', () => {
    expect(shareText(10, null)).toBe('–')
    expect(shareText(10, sgd(0))).toBe('– (the job has no samples yet)')
  })
})

describe('minutes and count', () => {
  it('writes durations for people', () => {
    expect(minutes(0)).toBe('0 s')
    expect(minutes(45_999)).toBe('45 s')
    expect(minutes(60_000)).toBe('1 min')
    expect(minutes(59 * 60_000 + 59_000)).toBe('59 min')
    expect(minutes((2 * 60 + 5) * 60_000)).toBe('2 h 05 min')
  })

  it('rounds counts and groups them by the locale', () => {
    expect(count(12_345.4)).toBe((12_345).toLocaleString())
    expect(count(0.6)).toBe('1')
  })
})

describe('device words', () => {
  it('names a software adapter by its known name', () => {
    expect(adapterName({ vendor: 'google', architecture: 'swiftshader', description: '' }, true)).toBe('SwiftShader')
    expect(adapterName({ vendor: '', architecture: '', description: '' }, true)).toBe('a software adapter')
  })

  it('names a hardware adapter by its description, else vendor and architecture', () => {
    expect(adapterName({ vendor: 'nvidia', architecture: 'ada', description: 'RTX 4090' }, false)).toBe('RTX 4090')
    expect(adapterName({ vendor: 'nvidia', architecture: 'ada', description: '' }, false)).toBe('nvidia ada')
    expect(adapterName({ vendor: '', architecture: '', description: '' }, false)).toBe('an unnamed GPU')
  })

  it('says which engine won the race', () => {
    const race = (kind: 'webgpu' | 'cpu') => ({ engine: { kind }, msPerStep: {}, why: '' }) as unknown as RaceResult
    expect(raceSentence(race('webgpu'), 'RTX 4090')).toBe('WebGPU on RTX 4090: faster than the CPU engine on this job’s model.')
    expect(raceSentence(race('cpu'), 'RTX 4090')).toBe('CPU engine: faster than WebGPU on RTX 4090 for this job’s model.')
  })
})
