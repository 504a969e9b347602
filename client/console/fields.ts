// Form building blocks for the console: labelled inputs, selects and radio groups, each input with its <label>.

let counter = 0
/** A fresh element id for a label's `for`. */
export function uid(stem: string): string {
  return `${stem}-${++counter}`
}

/** A label and its control in one row (`.field`), with an optional hint below, tied by aria-describedby. */
export function field(labelText: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint = ''): HTMLElement {
  const wrap = document.createElement('div')
  wrap.className = 'field'
  if (!control.id) control.id = uid(control.name || 'f')
  const label = Object.assign(document.createElement('label'), { htmlFor: control.id, textContent: labelText })
  wrap.append(label, control)
  if (hint) {
    const h = Object.assign(document.createElement('small'), { className: 'hint', id: `${control.id}-hint`, textContent: hint })
    control.setAttribute('aria-describedby', h.id)
    wrap.append(h)
  }
  return wrap
}

/** An <input> with a name and attributes. */
export function input(name: string, attrs: { [K in 'type' | 'value' | 'id' | 'checked' | 'inputMode' | 'placeholder' | 'accept' | 'multiple']?: HTMLInputElement[K] } = {}): HTMLInputElement {
  const e = document.createElement('input')
  e.name = name
  for (const [k, v] of Object.entries(attrs)) (e as unknown as Record<string, unknown>)[k] = v
  return e
}

/** A <select> of [value, text] options. */
export function select(name: string, options: Array<[string, string]>): HTMLSelectElement {
  const s = Object.assign(document.createElement('select'), { name })
  setOptions(s, options)
  return s
}

/** Replaces a select's options, keeping the chosen value where it is still offered. */
export function setOptions(s: HTMLSelectElement, options: Array<[string, string]>): void {
  const was = s.value
  s.replaceChildren(...options.map(([value, text]) => Object.assign(document.createElement('option'), { value, textContent: text })))
  if (options.some(([v]) => v === was)) s.value = was
}

/** A <fieldset> with a legend and radio buttons of [value, text]; the first is checked. */
export function radios(name: string, legend: string, options: Array<[string, string]>): HTMLFieldSetElement {
  const fs = document.createElement('fieldset')
  fs.className = 'radios'
  fs.append(Object.assign(document.createElement('legend'), { textContent: legend }))
  options.forEach(([value, text], i) => {
    const r = input(name, { type: 'radio', value, checked: i === 0, id: uid(`${name}-${value}`) })
    const label = Object.assign(document.createElement('label'), { htmlFor: r.id, textContent: text })
    const item = document.createElement('span')
    item.className = 'radio'
    item.append(r, label)
    fs.append(item)
  })
  return fs
}

/** The checked value of a radio group inside `root`. */
export function checked(root: ParentNode, name: string): string {
  return root.querySelector<HTMLInputElement>(`input[name="${name}"]:checked`)?.value ?? ''
}
