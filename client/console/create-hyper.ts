// The create form's hyperparameters: the fields that matter most as inputs (defaults from the zod schemas), and an
// "advanced" JSON box with the rest; one block per app.
import { z } from 'zod'
import { HyperSchema } from '../../protocol/job.ts'
import { LassoHyperSchema } from '../../protocol/lasso.ts'
import { field, input, select } from './fields.ts'

type Schema = typeof HyperSchema | typeof LassoHyperSchema

/** The main fields per app, with their labels; the rest go in the advanced box. */
const MAIN = {
  sgd: { lr: 'learning rate η₀', batch: 'batch size B', staleness: 'staleness s', epochs: 'epochs', shardSize: 'shard size (samples)', minWorkers: 'workers to start' },
  lasso: {
    lambda: 'λ (blank: λ fraction × λmax)',
    lambdaFrac: 'λ fraction of λmax',
    scheduler: 'scheduler',
    picks: 'coordinates per worker per round',
    blockColumns: 'columns per block',
    staleness: 'staleness s (rounds)',
    minWorkers: 'workers to start',
  },
} as const

/** A hyperparameter block: its element, and the hyperparameters it holds now (throws Error naming a bad field). */
export interface HyperBlock {
  el: HTMLElement
  value(): Record<string, unknown>
}

/** The block of `app`: inputs for its main fields and a <details> with the rest as JSON, each with its default. */
export function hyperBlock(app: 'sgd' | 'lasso'): HyperBlock {
  const schema: Schema = app === 'sgd' ? HyperSchema : LassoHyperSchema
  const defaults = schema.parse({}) as Record<string, unknown>
  const shape = schema.shape as Record<string, z.ZodType>
  const main = MAIN[app] as Record<string, string>
  const el = document.createElement('fieldset')
  el.className = `hyper hyper-${app}`
  el.append(Object.assign(document.createElement('legend'), { textContent: app === 'sgd' ? 'Hyperparameters (SGD)' : 'Hyperparameters (Lasso)' }))
  const grid = document.createElement('div')
  grid.className = 'field-grid'
  const controls = new Map<string, HTMLInputElement | HTMLSelectElement>()
  for (const [key, label] of Object.entries(main)) {
    const c = control(`${app}-${key}`, shape[key], defaults[key])
    controls.set(key, c)
    grid.append(field(label, c, defaults[key] === undefined ? 'optional' : `default ${defaults[key]}`))
  }
  const rest = Object.fromEntries(Object.entries(defaults).filter(([k]) => !(k in main)))
  const area = Object.assign(document.createElement('textarea'), { name: `${app}-advanced`, rows: 8, spellcheck: false, value: JSON.stringify(rest, null, 2) })
  const advanced = document.createElement('details')
  advanced.className = 'advanced'
  advanced.append(
    Object.assign(document.createElement('summary'), { textContent: 'Advanced hyperparameters' }),
    field('Other hyperparameters (JSON; these are the defaults)', area),
  )
  el.append(grid, advanced)
  const value = (): Record<string, unknown> => {
    let extra: unknown
    try {
      extra = area.value.trim() ? JSON.parse(area.value) : {}
    } catch (e) {
      throw new Error(`advanced hyperparameters: not JSON (${(e as Error).message})`)
    }
    if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) throw new Error('advanced hyperparameters: a JSON object, e.g. { "clip": 20 }')
    const hyper: Record<string, unknown> = { ...extra }
    for (const [key, c] of controls) {
      if (c.value.trim() === '') delete hyper[key]
      else hyper[key] = c instanceof HTMLSelectElement ? c.value : Number(c.value)
    }
    const parsed = schema.safeParse(hyper)
    if (!parsed.success) {
      const i = parsed.error.issues[0]
      throw new Error(`hyper.${i.path.join('.')}: ${i.message}`)
    }
    return hyper
  }
  return { el, value }
}

/** An input for one schema field: a number box (integer step where the schema wants one) or a select of its choices. */
function control(name: string, s: z.ZodType, def: unknown): HTMLInputElement | HTMLSelectElement {
  const t = inner(s)
  if (t instanceof z.ZodEnum) {
    const sel = select(name, t.options.map((o) => [String(o), String(o)]))
    sel.value = String(def)
    return sel
  }
  const box = input(name, { type: 'number', inputMode: 'decimal', value: def === undefined ? '' : String(def) })
  if (t instanceof z.ZodNumber) {
    box.step = t.isInt ? '1' : 'any'
    if (t.isInt) box.inputMode = 'numeric'
    if (Number.isFinite(t.minValue) && t.minValue! > 0) box.min = String(t.minValue)
    else if (t.minValue === 0) box.min = '0'
    if (Number.isFinite(t.maxValue)) box.max = String(t.maxValue)
  }
  return box
}

/** The schema under .default() and .optional(). */
function inner(s: z.ZodType): z.ZodType {
  if (s instanceof z.ZodDefault || s instanceof z.ZodOptional) return inner(s.unwrap() as z.ZodType)
  return s
}
