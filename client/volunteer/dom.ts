// Small DOM helpers shared by the two pages.

export function el(id: string): HTMLElement {
  const e = document.getElementById(id)
  if (!e) throw new Error(`page has no #${id}`)
  return e
}

export function setText(id: string, text: string): void {
  const e = el(id)
  if (e.textContent !== text) e.textContent = text
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`
  return `${(n / 1024 ** 3).toFixed(2)} GiB`
}
