// Redrawing without losing the reader's place: refreshed parts replace only what changed, so focus, an open
// <details> and a chart survive the once-a-second refresh.

const kept = new Map<string, HTMLElement>()

/**
 * Makes `host`'s children `next`, changing only what differs: an old child like its new one (same tag and
 * attributes) is kept and its own children patched the same way, so a focused button, a scrolled table and a chart
 * stay put. Nodes passed in that are already in `host` (a chart, a control bar) are moved, never rebuilt.
 *
 * @example
 * patch(card, [heading(j), summaryTable(j), persistent(`controls:${j.id}`, makeControls)])
 */
export function patch(host: Node, next: Node[]): void {
  const old = [...host.childNodes]
  const given = new Set(next)
  const final = next.map((n, i) => {
    const o = old[i]
    return o && o !== n && !given.has(o) ? merge(o, n) : n
  })
  const want = new Set(final)
  for (const o of old) if (!want.has(o)) host.removeChild(o)
  final.forEach((n, i) => {
    if (host.childNodes[i] !== n) host.insertBefore(n, host.childNodes[i] ?? null)
  })
}

/** `o` brought to look like `n` where that keeps it (same text node, or same tag and attributes), else `n`. */
function merge(o: Node, n: Node): Node {
  if (o.isEqualNode(n)) return o
  if (o instanceof Text && n instanceof Text) {
    o.data = n.data
    return o
  }
  if (o instanceof Element && n instanceof Element && o.tagName === n.tagName && sameAttributes(o, n)) {
    patch(o, [...n.childNodes])
    return o
  }
  return n
}

/** Same attributes, `open` aside: a <details> the reader opened or closed stays so. */
function sameAttributes(a: Element, b: Element): boolean {
  const names = (e: Element) => [...e.attributes].map((at) => at.name).filter((n) => n !== 'open')
  const an = names(a)
  return an.length === names(b).length && an.every((n) => b.getAttribute(n) === a.getAttribute(n))
}

/** The element kept under `key`, made by `make` the first time: the same node on every refresh. */
export function persistent<T extends HTMLElement>(key: string, make: () => T): T {
  let e = kept.get(key) as T | undefined
  if (!e) kept.set(key, (e = make()))
  return e
}

/** A table in a wrapper that scrolls sideways on a narrow screen (focusable, so the keyboard can scroll it). */
export function scroller(t: HTMLTableElement, label: string): HTMLDivElement {
  const wrap = document.createElement('div')
  wrap.className = 'table-wrap'
  wrap.tabIndex = 0
  wrap.setAttribute('role', 'region')
  wrap.setAttribute('aria-label', label)
  wrap.append(t)
  return wrap
}

/** An element with a class and text. */
export function text<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, content: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  if (cls) e.className = cls
  e.textContent = content
  return e
}
