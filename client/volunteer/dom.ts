// Small DOM helpers shared by the two pages.

/** The page's element with this id; throws when the page has none (a page and its script out of step). */
export function el(id: string): HTMLElement {
  const e = document.getElementById(id)
  if (!e) throw new Error(`page has no #${id}`)
  return e
}

/** Sets an element's text, leaving the DOM alone when it already reads so (no needless layout or announcements). */
export function setText(id: string, text: string): void {
  const e = el(id)
  if (e.textContent !== text) e.textContent = text
}

/** Sets `data-*` attributes of an element, only those that changed. */
export function setData(id: string, data: Record<string, string>): void {
  const e = el(id)
  for (const [k, v] of Object.entries(data)) if (e.dataset[k] !== v) e.dataset[k] = v
}

/** A byte count for people: "512 B", "1.5 KiB", "3.2 MiB", "1.07 GiB". */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`
  return `${(n / 1024 ** 3).toFixed(2)} GiB`
}
