// The volunteer's controls: Pause/Resume and the throttle (25 / 50 / 100 % of the time). The choice holds across the
// sessions the page makes; the throttle also across reloads (localStorage), the pause only until the page reloads.
import { clampDuty } from '../train/throttle.ts'

/** What the controls act on: the page's current Session (client/train/session.ts). */
export interface Controllable {
  pause(): void
  resume(): void
  setDuty(duty: number): void
}

/** Where the throttle is remembered. */
export const DUTY_KEY = 'tabgrid.duty'

/** The duty the volunteer chose last time on this origin; 1 when none (or storage is off). */
export function storedDuty(storage: Pick<Storage, 'getItem'> | null = safeStorage()): number {
  const v = Number(storage?.getItem(DUTY_KEY) ?? NaN)
  return Number.isFinite(v) && v > 0 ? clampDuty(v) : 1
}

/**
 * The Pause button and the throttle's radio group. `attach(session)` hands the current choice to a new Session right
 * after it is made; the buttons (and `window.tabgrid`) change it for the session at hand and every later one.
 *
 * @example
 * const controls = new Controls(el('pause') as HTMLButtonElement, el('throttle'))
 * controls.attach(new Session(deps))
 */
export class Controls {
  paused = false
  duty: number
  private session: Controllable | null = null

  constructor(
    private readonly button: HTMLButtonElement,
    private readonly throttle: HTMLElement,
    private readonly storage: Storage | null = safeStorage(),
  ) {
    this.duty = storedDuty(storage)
    button.addEventListener('click', () => (this.paused ? this.resume() : this.pause()))
    for (const r of this.radios()) r.addEventListener('change', () => r.checked && this.setDuty(Number(r.value)))
    this.show()
  }

  /** The page made a new Session: it gets the volunteer's throttle, and their pause if they paused. */
  attach(session: Controllable): void {
    this.session = session
    session.setDuty(this.duty)
    if (this.paused) session.pause()
  }

  /** The session ended: the choice waits for the next one (an ended session is not told). */
  detach(): void {
    this.session = null
  }

  pause(): void {
    this.paused = true
    this.session?.pause()
    this.show()
  }

  resume(): void {
    this.paused = false
    this.session?.resume()
    this.show()
  }

  /** The fraction of the time the tab computes, from the next step on; remembered for later visits. */
  setDuty(duty: number): void {
    this.duty = clampDuty(duty)
    this.session?.setDuty(this.duty)
    try {
      this.storage?.setItem(DUTY_KEY, String(this.duty))
    } catch (e) {
      // storage full or refused (private mode): the choice holds for this page only
      console.warn(`the throttle is not remembered: ${(e as Error).message}`)
    }
    this.show()
  }

  /** No more sessions (the volunteer left, or the page stopped): the controls go grey. */
  disable(): void {
    this.button.disabled = true
    for (const r of this.radios()) r.disabled = true
  }

  private radios(): HTMLInputElement[] {
    return [...this.throttle.querySelectorAll<HTMLInputElement>('input[type="radio"]')]
  }

  private show(): void {
    this.button.textContent = this.paused ? 'Resume' : 'Pause'
    this.button.classList.toggle('resume', this.paused)
    for (const r of this.radios()) r.checked = Math.abs(Number(r.value) - this.duty) < 1e-9
  }
}

/** localStorage where the browser allows it; null where it throws (sandboxed frames, some private modes). */
function safeStorage(): Storage | null {
  try {
    return globalThis.localStorage ?? null
  } catch {
    return null
  }
}
