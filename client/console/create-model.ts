// The create form's model (SGD): a preset by name (model/spec.ts's presets) or a JSON model description, checked
// here with the same parser the coordinator uses before anything is sent.
import { parseModelSpec, presetSpec, PRESETS } from '../../model/spec.ts'
import { checked, field, input, radios, uid } from './fields.ts'

/** Suggestions for the preset box; any `mlp:W1,W2,…` works too. */
const SUGGESTED = ['mlr', 'mlp:256,128', 'mlp:64', 'cnn']

/** An example for the JSON box: a small MLP in the layer-list form (Keras Sequential JSON is taken too). */
const EXAMPLE = JSON.stringify({ layers: [{ type: 'dense', units: 64, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] }, null, 2)

/** The model block: its element, and the model it holds now (a preset name or a parsed object; throws Error when bad). */
export interface ModelBlock {
  el: HTMLElement
  value(): string | Record<string, unknown>
}

export function modelBlock(): ModelBlock {
  const el = document.createElement('fieldset')
  el.className = 'model'
  el.append(Object.assign(document.createElement('legend'), { textContent: 'Model' }))
  const kind = radios('model-kind', 'Model from', [['preset', 'a preset'], ['json', 'a JSON description']])
  const list = Object.assign(document.createElement('datalist'), { id: uid('presets') })
  list.append(...SUGGESTED.map((p) => Object.assign(document.createElement('option'), { value: p })))
  const preset = input('model-preset', { type: 'text', value: 'mlr' })
  preset.setAttribute('list', list.id)
  preset.spellcheck = false
  const presetField = field('Preset', preset, `Presets: ${PRESETS}`)
  presetField.append(list)
  const area = Object.assign(document.createElement('textarea'), { name: 'model-json', rows: 8, spellcheck: false, value: EXAMPLE })
  const jsonField = field('Model description (JSON: a layer list, or a Keras / TF.js Sequential model)', area)
  const show = () => {
    const json = checked(kind, 'model-kind') === 'json'
    presetField.hidden = json
    jsonField.hidden = !json
  }
  kind.addEventListener('change', show)
  show()
  el.append(kind, presetField, jsonField)
  const value = (): string | Record<string, unknown> => {
    if (checked(kind, 'model-kind') === 'preset') {
      const name = preset.value.trim()
      presetSpec(name, 10) // throws ModelSpecError naming what is wrong
      return name
    }
    let body: unknown
    try {
      body = JSON.parse(area.value)
    } catch (e) {
      throw new Error(`model: not JSON (${(e as Error).message})`)
    }
    parseModelSpec(body)
    return Array.isArray(body) ? { layers: body } : (body as Record<string, unknown>)
  }
  return { el, value }
}
