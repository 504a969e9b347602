// The operator's "New job" form: app, name, data (built-in, a server file or an upload), model (SGD), the
// hyperparameters, and a training-set limit; it posts to /api/jobs and says the coordinator's refusal in words.
import type { AnySummary } from './api.ts'
import { describe, postJson } from './api.ts'
import { dataBlock } from './create-data.ts'
import { hyperBlock } from './create-hyper.ts'
import { modelBlock } from './create-model.ts'
import { checked, field, input, radios } from './fields.ts'

/**
 * The form in a <details> ("New job"); `created` runs with the new job's id once the coordinator took it.
 *
 * @example
 * main.prepend(createForm((id) => (location.hash = `job=${id}`)))
 */
export function createForm(created: (id: string) => void): HTMLElement {
  const box = document.createElement('details')
  box.className = 'card create'
  box.append(Object.assign(document.createElement('summary'), { textContent: 'New job' }))
  const form = document.createElement('form')
  form.className = 'create-job'
  form.setAttribute('aria-label', 'New job')
  form.noValidate = true // the checks below name the field in words, as the coordinator would
  const app = radios('app', 'App', [['sgd', 'SGD (train a model)'], ['lasso', 'Lasso (coordinate descent)']])
  const name = input('name', { type: 'text', placeholder: 'optional' })
  name.maxLength = 80
  const trainLimit = input('train-limit', { type: 'number', inputMode: 'numeric', placeholder: 'all' })
  trainLimit.min = '1'
  trainLimit.step = '1'
  const data = dataBlock()
  const model = modelBlock()
  const hyper = { sgd: hyperBlock('sgd'), lasso: hyperBlock('lasso') }
  const submit = Object.assign(document.createElement('button'), { type: 'submit', className: 'primary', textContent: 'Create job' })
  const message = Object.assign(document.createElement('p'), { className: 'form-message', id: 'create-message' })
  message.setAttribute('role', 'alert')
  const which = () => (checked(app, 'app') === 'lasso' ? 'lasso' : 'sgd')
  const show = () => {
    const a = which()
    model.el.hidden = a !== 'sgd'
    hyper.sgd.el.hidden = a !== 'sgd'
    hyper.lasso.el.hidden = a !== 'lasso'
    data.setApp(a)
  }
  app.addEventListener('change', show)
  show()
  const basics = document.createElement('div')
  basics.className = 'field-grid'
  basics.append(field('Name', name), field('Training samples to use', trainLimit, 'Blank: all of them.'))
  form.append(app, basics, data.el, model.el, hyper.sgd.el, hyper.lasso.el, submit, message)
  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    submit.disabled = true
    message.className = 'form-message'
    message.textContent = 'checking…'
    send()
      .then((s) => {
        message.textContent = `Created job ${s.name} (${s.id}).`
        created(s.id)
      })
      .catch((e: unknown) => {
        message.className = 'form-message error'
        const code = (e as { code?: unknown }).code
        const text = describe(e)
        message.textContent = `Not created: ${typeof code === 'string' && !text.startsWith(code) ? `${code}: ${text}` : text}`
      })
      .finally(() => (submit.disabled = false))
  })
  const send = async (): Promise<AnySummary> => {
    const a = which()
    const body: Record<string, unknown> = { app: a, hyper: hyper[a].value() }
    if (a === 'sgd') body.model = model.value()
    if (name.value.trim()) body.name = name.value.trim()
    if (trainLimit.value.trim()) {
      const n = Number(trainLimit.value)
      if (!Number.isInteger(n) || n < 1) throw new Error('trainLimit: a whole number ≥ 1, or blank for all')
      body.trainLimit = n
    }
    Object.assign(body, await data.value((t) => (message.textContent = t)))
    message.textContent = 'creating…'
    return postJson<AnySummary>('/api/jobs', body)
  }
  box.append(form)
  return box
}
