// The console's calls to the coordinator's HTTP API: reads for everyone, operator calls with the Bearer token.
import type { Rejection } from '../../protocol/errors.ts'
import type { EdgeView, JobControl, JobDetail, JobSummary } from '../../protocol/job.ts'
import type { LassoDetail, LassoSummary } from '../../protocol/lasso.ts'
import type { UploadView } from '../../protocol/operator.ts'
import { token } from './token.ts'

/** A row of GET /api/jobs: an SGD or a Lasso job, told apart by `app`. */
export type AnySummary = JobSummary | LassoSummary
/** GET /api/jobs/:id of a Lasso job: its detail and the socket edge's counts. */
export type LassoDetailView = LassoDetail & { edge: EdgeView }
/** GET /api/jobs/:id of either app. */
export type AnyDetail = JobDetail | LassoDetailView


/** A refused API call: the HTTP status and the coordinator's code and reason (`ERR_UNAUTHORIZED`, …). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly reason: string,
  ) {
    super(`${code}: ${reason}`)
    this.name = 'ApiError'
  }
}

/**
 * Fetches JSON from the API; an answer other than 2xx throws ApiError with the body's code and reason. `operator`
 * adds the signed-in token as `Authorization: Bearer`.
 *
 * @example
 * const jobs = await api<AnySummary[]>('/api/jobs')
 */
export async function api<T>(path: string, init: RequestInit & { operator?: boolean } = {}): Promise<T> {
  const { operator, ...rest } = init
  const headers = new Headers(rest.headers)
  const t = token()
  if (operator && t) headers.set('authorization', `Bearer ${t}`)
  const res = await fetch(path, { ...rest, headers })
  const text = await res.text()
  let body: unknown = null
  try {
    body = text ? JSON.parse(text) : null
  } catch {
    body = null // not JSON (a proxy's page, an HTML 404): the status line says what happened
  }
  if (!res.ok) {
    const r = body as Partial<Rejection> | null
    throw new ApiError(res.status, r?.code ?? `HTTP ${res.status}`, r?.reason ?? (text.slice(0, 200) || res.statusText))
  }
  return body as T
}

/** POSTs a JSON body as the operator. */
export function postJson<T>(path: string, body: unknown): Promise<T> {
  return api<T>(path, { method: 'POST', operator: true, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

/** Pauses, resumes or cancels a job; answers its summary. */
export function controlJob(id: string, action: JobControl): Promise<AnySummary> {
  return api<AnySummary>(`/api/jobs/${encodeURIComponent(id)}/${action}`, { method: 'POST', operator: true })
}

/** Uploads one file's bytes; `into` adds it to an earlier upload (the 2nd and later IDX files). */
export function uploadFile(file: File, into?: string): Promise<UploadView> {
  const q = new URLSearchParams({ name: file.name, ...(into ? { into } : {}) })
  return api<UploadView>(`/api/uploads?${q}`, { method: 'POST', operator: true, headers: { 'content-type': 'application/octet-stream' }, body: file })
}

/** In words for the page: `ERR_X: reason` for a refusal, else the error's message. */
export function describe(e: unknown): string {
  if (e instanceof ApiError) return `${e.code}: ${e.reason}`
  return e instanceof Error ? e.message : String(e)
}
