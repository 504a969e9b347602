// Operator sign-in in the console's header: the token form, the check against GET /api/operator, and Sign out.
import { api, ApiError, describe } from './api.ts'
import { setToken, signedIn, token } from './token.ts'

/**
 * Draws the sign-in form (or, signed in, a note and a Sign out button) into `host`, and calls `changed` whenever the
 * operator signs in or out. A kept token is checked again first: one the coordinator no longer takes is forgotten.
 */
export function mountAuth(host: HTMLElement, changed: () => void): void {
  const render = () => host.replaceChildren(signedIn() ? signedInBar(signOut) : signInForm(signInWith))
  const signInWith = async (t: string): Promise<void> => {
    await check(t)
    setToken(t)
    render()
    host.querySelector<HTMLButtonElement>('button.sign-out')?.focus()
    changed()
  }
  const signOut = () => {
    setToken(null)
    render()
    host.querySelector<HTMLInputElement>('input')?.focus()
    changed()
  }
  render()
  const kept = token()
  if (kept) {
    check(kept).catch((e: unknown) => {
      if (!(e instanceof ApiError && e.status === 401)) return // the coordinator is away: keep the token for now
      setToken(null)
      render()
      changed()
    })
  }
}

/** GET /api/operator with the token: resolves when it is the operator's, throws ApiError (401) when not. */
async function check(t: string): Promise<void> {
  const headers = { authorization: `Bearer ${t}` }
  await api<{ ok: true }>('/api/operator', { headers })
}

function signInForm(signIn: (t: string) => Promise<void>): HTMLFormElement {
  const form = document.createElement('form')
  form.className = 'sign-in'
  form.setAttribute('aria-label', 'Operator sign-in')
  const label = Object.assign(document.createElement('label'), { htmlFor: 'operator-token', textContent: 'Operator token' })
  const input = Object.assign(document.createElement('input'), { id: 'operator-token', name: 'token', type: 'password', required: true, autocomplete: 'off', spellcheck: false })
  const button = Object.assign(document.createElement('button'), { type: 'submit', textContent: 'Sign in' })
  const message = Object.assign(document.createElement('p'), { className: 'auth-message', id: 'operator-token-message' })
  message.setAttribute('role', 'alert')
  input.setAttribute('aria-describedby', message.id)
  form.append(label, input, button, message)
  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    const t = input.value.trim()
    if (!t) return
    button.disabled = true
    message.textContent = 'checking…'
    signIn(t).catch((e: unknown) => {
      button.disabled = false
      message.textContent = e instanceof ApiError && e.status === 401 ? `Refused: that is not the operator token (${describe(e)})` : `Cannot sign in: ${describe(e)}`
      input.select()
    })
  })
  return form
}

function signedInBar(signOut: () => void): HTMLElement {
  const bar = document.createElement('div')
  bar.className = 'signed-in'
  const note = Object.assign(document.createElement('span'), { textContent: 'Signed in as operator' })
  const button = Object.assign(document.createElement('button'), { type: 'button', className: 'sign-out', textContent: 'Sign out' })
  button.addEventListener('click', signOut)
  bar.append(note, button)
  return bar
}
