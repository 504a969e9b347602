// Pause, Resume and Cancel for one job (signed-in operators only): a bar of real buttons kept across refreshes.
import { isEnded, type JobControl, type JobState } from '../../protocol/job.ts'
import { controlJob, describe } from './api.ts'
import { persistent } from './view.ts'

interface Bar {
  el: HTMLElement
  buttons: Record<JobControl, HTMLButtonElement>
  message: HTMLElement
}
const bars = new Map<string, Bar>()

/**
 * The control bar of job `id` in view `where` (the same node on every refresh, so a focused button stays focused),
 * set for its state: Pause while it runs or waits, Resume while paused, Cancel until it ends, none once it ended.
 * `done` runs after an action went through (the page refreshes).
 */
export function controls(where: string, j: { id: string; name: string; state: JobState }, done: () => void): HTMLElement {
  const key = `controls:${where}:${j.id}`
  const el = persistent(key, () => {
    const bar = makeBar(j.id, j.name, done)
    bars.set(key, bar)
    return bar.el
  })
  const bar = bars.get(key)!
  const ended = isEnded(j.state)
  const had = document.activeElement instanceof HTMLButtonElement && bar.el.contains(document.activeElement) ? document.activeElement : null
  bar.buttons.pause.hidden = ended || j.state === 'paused'
  bar.buttons.resume.hidden = j.state !== 'paused'
  bar.buttons.cancel.hidden = ended
  // Pause pressed becomes Resume: the keyboard stays on the bar
  if (had?.hidden) Object.values(bar.buttons).find((b) => !b.hidden)?.focus()
  return el
}

function makeBar(id: string, name: string, done: () => void): Bar {
  const el = document.createElement('div')
  el.className = 'controls'
  el.setAttribute('role', 'group')
  el.setAttribute('aria-label', `Controls of job ${id}`)
  const message = document.createElement('span')
  message.className = 'control-message'
  message.setAttribute('role', 'status')
  const make = (action: JobControl, label: string): HTMLButtonElement => {
    const b = Object.assign(document.createElement('button'), { type: 'button', className: `control control-${action}`, textContent: label })
    b.dataset.action = action
    b.addEventListener('click', () => {
      if (action === 'cancel' && !confirm(`Cancel job ${name} (${id})? Its workers stop and it cannot be resumed.`)) return
      for (const x of Object.values(buttons)) x.disabled = true
      message.textContent = `${label}…`
      controlJob(id, action)
        .then(() => {
          message.textContent = ''
          done()
        })
        .catch((e: unknown) => {
          message.textContent = `${label} refused: ${describe(e)}`
        })
        .finally(() => {
          for (const x of Object.values(buttons)) x.disabled = false
        })
    })
    return b
  }
  const buttons = { pause: make('pause', 'Pause'), resume: make('resume', 'Resume'), cancel: make('cancel', 'Cancel') }
  el.append(buttons.pause, buttons.resume, buttons.cancel, message)
  return { el, buttons, message }
}
