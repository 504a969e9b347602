// The create form's data source: a built-in set, a file on the server (inside its data roots), or an upload (a CSV,
// or the IDX files of one set together); and, for a Lasso job on a CSV, the target column.
import { bytes } from '../volunteer/dom.ts'
import type { DataCatalog } from '../../protocol/operator.ts'
import { api, describe, uploadFile } from './api.ts'
import { checked, field, input, radios, select, setOptions } from './fields.ts'

/** Until GET /api/data answers (or where it cannot), the built-in sets each app always has. */
const FALLBACK: DataCatalog = {
  builtin: [
    { spec: 'builtin', app: 'sgd', description: 'synthetic 28×28 digits' },
    { spec: 'correlated', app: 'lasso', description: 'correlated regression data' },
  ],
  files: [],
  maxUploadBytes: 0,
}

/** The data block: its element, the app it offers sets for, and the `data` spec of the choice (uploading first). */
export interface DataBlock {
  el: HTMLElement
  setApp(app: 'sgd' | 'lasso'): void
  /** The job's `data` and, for Lasso on a CSV, its `target`; an upload is sent first, `progress` told of each file. */
  value(progress: (text: string) => void): Promise<{ data: string; target?: string | number }>
}

export function dataBlock(): DataBlock {
  let app: 'sgd' | 'lasso' = 'sgd'
  let choices = FALLBACK
  let uploaded: { key: string; spec: string } | null = null
  const el = document.createElement('fieldset')
  el.className = 'data'
  el.append(Object.assign(document.createElement('legend'), { textContent: 'Data' }))
  const kind = radios('data-kind', 'Data source', [['builtin', 'built-in'], ['file', 'a file on the server'], ['upload', 'upload files']])
  const builtin = select('data-builtin', [])
  const file = select('data-file', [])
  const files = input('data-upload', { type: 'file', multiple: true })
  const note = Object.assign(document.createElement('p'), { className: 'data-note' })
  note.setAttribute('role', 'status')
  const target = input('lasso-target', { type: 'text', placeholder: 'first column' })
  const fields = {
    builtin: field('Built-in data set', builtin),
    file: field('File on the server', file, 'Files under the coordinator’s data roots (--data-root).'),
    upload: field('Files to upload', files, 'A CSV (label or target first, a header row), or the IDX files of one set together (e.g. MNIST’s 4).'),
    target: field('Target column (Lasso; a name or 0-based index)', target, 'Blank: the first column.'),
  }
  const isCsv = () => {
    const k = checked(kind, 'data-kind')
    if (k === 'file') return file.value.startsWith('csv:')
    if (k === 'upload') return [...(files.files ?? [])].some((f) => /\.csv(\.gz)?$/i.test(f.name))
    return false
  }
  const show = () => {
    const k = checked(kind, 'data-kind')
    fields.builtin.hidden = k !== 'builtin'
    fields.file.hidden = k !== 'file'
    fields.upload.hidden = k !== 'upload'
    fields.target.hidden = !(app === 'lasso' && isCsv())
    setOptions(builtin, choices.builtin.filter((b) => b.app === app).map((b) => [b.spec, `${b.spec} — ${b.description}`]))
    const mine = choices.files.filter((f) => f.app === app || f.app === 'both')
    setOptions(file, mine.length ? mine.map((f) => [f.spec, `${f.path} (${bytes(f.bytes)})`]) : [['', 'no files for this app under the data roots']])
    const limit = choices.maxUploadBytes ? `Upload limit: ${bytes(choices.maxUploadBytes)} per file.` : ''
    fields.upload.querySelector('.hint')!.textContent = `A CSV (label or target first, a header row), or the IDX files of one set together (e.g. MNIST’s 4). ${limit}`
  }
  /** Asks the coordinator what there is (again when the server's files are chosen: an upload adds one). */
  const load = () =>
    api<DataCatalog>('/api/data', { operator: true })
      .then((c) => {
        choices = c
        note.textContent = ''
        show()
      })
      .catch((e: unknown) => {
        note.textContent = `The coordinator did not list its data (${describe(e)}): only the built-in sets are offered.`
      })
  kind.addEventListener('change', () => {
    show()
    if (checked(kind, 'data-kind') === 'file') void load()
  })
  file.addEventListener('change', show)
  files.addEventListener('change', show)
  el.append(kind, fields.builtin, fields.file, fields.upload, fields.target, note)
  show()
  void load()

  const value = async (progress: (text: string) => void) => {
    const k = checked(kind, 'data-kind')
    const withTarget = (data: string) => {
      const t = target.value.trim()
      if (app !== 'lasso' || !t || !data.startsWith('csv:')) return { data }
      return { data, target: /^\d+$/.test(t) ? Number(t) : t }
    }
    if (k === 'builtin') return withTarget(builtin.value)
    if (k === 'file') {
      if (!file.value) throw new Error('data: choose a file, or another source')
      return withTarget(file.value)
    }
    const list = [...(files.files ?? [])]
    if (!list.length) throw new Error('data: choose the files to upload')
    const big = list.find((f) => choices.maxUploadBytes && f.size > choices.maxUploadBytes)
    if (big) throw new Error(`ERR_TOO_LARGE: ${big.name} is ${bytes(big.size)}, over the upload limit of ${bytes(choices.maxUploadBytes)}`)
    // the same files again (a retry after a refusal) are not sent twice
    const key = list.map((f) => `${f.name}:${f.size}:${f.lastModified}`).join('|')
    if (uploaded?.key === key) return withTarget(uploaded.spec)
    let id: string | undefined
    let spec = ''
    for (const [i, f] of list.entries()) {
      progress(`uploading ${f.name} (${i + 1} of ${list.length}, ${bytes(f.size)})…`)
      const r = await uploadFile(f, id)
      id = r.id
      spec = r.spec
    }
    uploaded = { key, spec }
    return withTarget(spec)
  }
  return { el, setApp: (a) => ((app = a), show()), value }
}
