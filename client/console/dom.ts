// The console's table helpers: a cell, a table from a header and rows, a fraction as a percentage, a heading.

/** A table cell with text and an optional class. */
export function cell(text: string, cls = ''): HTMLTableCellElement {
  const td = document.createElement('td')
  td.textContent = text
  if (cls) td.className = cls
  return td
}

/** A table from a header row and body rows. */
export function table(head: string[], rows: HTMLTableCellElement[][]): HTMLTableElement {
  const t = document.createElement('table')
  const tr = t.createTHead().insertRow()
  for (const h of head) tr.append(Object.assign(document.createElement('th'), { textContent: h }))
  const body = t.createTBody()
  for (const r of rows) body.insertRow().append(...r)
  return t
}

/** A fraction as a percentage, or '–'. */
export function pct(x: number | null): string {
  return x === null ? '–' : `${(100 * x).toFixed(2)} %`
}

/**
 * A card's heading: the job's name, its id, its state (coloured by class) with the reason beside it (`paused by the
 * operator`), and its app's tag, built as text. `level` 1 on the job page.
 */
export function heading(j: { name: string; id: string; state: string; app: 'sgd' | 'lasso'; reason?: string | null }, level: 1 | 2 = 2): HTMLHeadingElement {
  const h = document.createElement(level === 1 ? 'h1' : 'h2')
  h.className = 'job-heading'
  const id = Object.assign(document.createElement('small'), { textContent: j.id })
  const state = Object.assign(document.createElement('span'), { className: `state-${j.state}`, textContent: j.state })
  h.append(`${j.name} `, id, ' · ', state)
  if (j.reason) h.append(' ', Object.assign(document.createElement('span'), { className: 'reason', textContent: `(${j.reason})` }))
  h.append(' ', appTag(j.app))
  return h
}

/** A small tag naming a job's app, for the job list and the cards' headings. */
export function appTag(app: 'sgd' | 'lasso'): HTMLElement {
  const tag = document.createElement('span')
  tag.className = `app-tag app-${app}`
  tag.textContent = app === 'sgd' ? 'SGD' : 'Lasso'
  return tag
}
