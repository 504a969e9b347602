// The operator console: sign-in, the job list with a card per job (/console) and a page per job (/console#job=ID),
// refreshed each second; a signed-in operator also gets the New job form and Pause / Resume / Cancel.
import './console.css'
import { describe } from './api.ts'
import { mountAuth } from './auth.ts'
import { renderOverview, type ViewContext } from './overview.ts'
import { renderJobPage } from './page.ts'
import { signedIn } from './token.ts'
import { text } from './view.ts'

const root = document.getElementById('jobs')!
const status = document.getElementById('console-status')!

/** The job a `#job=ID` hash names, or null for the list. */
function route(): string | null {
  const m = /^#job=(.+)$/.exec(location.hash)
  return m ? decodeURIComponent(m[1]) : null
}

let busy = false
let again = false
let shown: string | null | undefined

const ctx: ViewContext = {
  get operator() {
    return signedIn()
  },
  refresh: () => void refresh(),
  open: (id) => {
    location.hash = `job=${encodeURIComponent(id)}`
  },
}

/** Redraws the current view; a call while one runs makes it run once more after. */
async function refresh(): Promise<void> {
  if (busy) {
    again = true
    return
  }
  busy = true
  try {
    const job = route()
    const moved = job !== shown
    if (moved) root.replaceChildren(text('p', 'loading', 'loading…'))
    if (job) await renderJobPage(root, job, ctx)
    else await renderOverview(root, ctx)
    status.textContent = ''
    if (moved) {
      shown = job
      document.title = job ? `tabgrid · job ${job}` : 'tabgrid · console'
      if (job) root.querySelector<HTMLElement>('.job-heading')?.focus()
    }
  } catch (e) {
    status.textContent = `Cannot reach the coordinator: ${describe(e)}`
  } finally {
    busy = false
    if (again) {
      again = false
      void refresh()
    }
  }
}

mountAuth(document.getElementById('auth')!, () => void refresh())
addEventListener('hashchange', () => void refresh())
void refresh()
setInterval(() => void refresh(), 1000)
