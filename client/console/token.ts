// The operator token: kept in sessionStorage only (never in a URL or localStorage), gone when the tab closes.

const KEY = 'tabgrid.operatorToken'

/** The signed-in operator's token, or null. */
export function token(): string | null {
  try {
    return sessionStorage.getItem(KEY)
  } catch {
    return null // storage refused (a sandboxed frame): nobody is signed in
  }
}

/** Keeps the token for this tab's session, or forgets it (null). */
export function setToken(t: string | null): void {
  if (t === null) sessionStorage.removeItem(KEY)
  else sessionStorage.setItem(KEY, t)
}

/** Whether an operator is signed in in this tab. */
export function signedIn(): boolean {
  return token() !== null
}
