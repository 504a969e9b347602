// Who volunteers: device speed classes, round-trip times, bandwidths, tab pauses and session lengths, all seeded.
import { gaussian } from '../../model/random.ts'

/** A kind of device: its share of volunteers and its median seconds per clock at the reference batch. */
export interface DeviceClass {
  name: string
  share: number
  /** Median seconds one clock of `REFERENCE_BATCH` rows takes (log-normal around it). */
  clockSeconds: number
  /** σ of ln(seconds per clock) within the class. */
  sigma: number
}

/** The batch the class speeds are quoted at (the job's default B). */
export const REFERENCE_BATCH = 32

/**
 * The default mix: a clock of a model like the MLP on MNIST at B 32, in seconds. Desktop GPUs are 10× the phones and
 * software fallbacks (SwiftShader, CPU engines); a laptop's integrated GPU sits between. The spread inside a class
 * (σ 0.35: the 5th to 95th percentile is ×3.2) is what browsers, drivers and thermal limits add.
 */
export const DEVICE_MIX: readonly DeviceClass[] = [
  { name: 'desktop GPU', share: 0.25, clockSeconds: 0.25, sigma: 0.35 },
  { name: 'laptop', share: 0.5, clockSeconds: 0.8, sigma: 0.35 },
  { name: 'phone / software', share: 0.25, clockSeconds: 2.5, sigma: 0.35 },
]

/** The mix with the slowest class at `share` of volunteers, the others scaled to fill the rest in proportion. */
export function withSlowShare(mix: readonly DeviceClass[], share: number): DeviceClass[] {
  const slow = mix.reduce((a, c, i) => (c.clockSeconds > mix[a].clockSeconds ? i : a), 0)
  const rest = mix.reduce((s, c, i) => (i === slow ? s : s + c.share), 0)
  return mix.map((c, i) => ({ ...c, share: i === slow ? share : (c.share / rest) * (1 - share) }))
}

/** How volunteers behave besides their device. */
export interface Behaviour {
  /** Round trip to the coordinator, log-uniform in [lo, hi] ms. */
  rttMs: [number, number]
  /** Uplink, log-uniform in [lo, hi] Mbit/s; the downlink is 2–10× it. */
  uplinkMbit: [number, number]
  /** WebRTC link setup of a joiner before it says ready: log-normal median (ms), capped by the job's link timeout. */
  linkMedianMs: number
  /** Tab pauses (a tab sent to the background and throttled): per tab and hour, and their length (log-normal). */
  pausesPerHour: number
  pauseMedianS: number
  pauseSigma: number
  /** Mean session length before a tab closes (exponential); 0: nobody leaves and nobody new comes. */
  sessionMeanS: number
}

export const DEFAULT_BEHAVIOUR: Behaviour = {
  rttMs: [20, 300],
  uplinkMbit: [1, 50],
  linkMedianMs: 1500,
  pausesPerHour: 6,
  pauseMedianS: 8,
  pauseSigma: 1,
  sessionMeanS: 1200,
}

/** One volunteer's device and network. */
export interface Volunteer {
  device: number
  /** Samples per second it computes when it never waits. */
  rate: number
  rttMs: number
  /** Bytes per ms. */
  up: number
  down: number
  linkMs: number
}

export function logUniform(rand: () => number, [lo, hi]: [number, number]): number {
  return lo * Math.exp(rand() * Math.log(hi / lo))
}

export function logNormal(rand: () => number, median: number, sigma: number): number {
  return median * Math.exp(sigma * gaussian(rand))
}

/** An exponential wait with the given mean. */
export function exponential(rand: () => number, mean: number): number {
  return -mean * Math.log(1 - rand())
}

export function drawVolunteer(rand: () => number, mix: readonly DeviceClass[], b: Behaviour, linkTimeoutMs: number): Volunteer {
  let u = rand()
  let device = mix.length - 1
  for (let i = 0; i < mix.length; i++) {
    if (u < mix[i].share) {
      device = i
      break
    }
    u -= mix[i].share
  }
  const c = mix[device]
  const seconds = logNormal(rand, c.clockSeconds, c.sigma)
  const upMbit = logUniform(rand, b.uplinkMbit)
  const downMbit = upMbit * (2 + 8 * rand())
  return {
    device,
    rate: REFERENCE_BATCH / seconds,
    rttMs: logUniform(rand, b.rttMs),
    up: (upMbit * 1e6) / 8 / 1000,
    down: (downMbit * 1e6) / 8 / 1000,
    linkMs: Math.min(linkTimeoutMs, logNormal(rand, b.linkMedianMs, 0.5)),
  }
}
